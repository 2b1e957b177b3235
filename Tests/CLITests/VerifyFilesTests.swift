import Foundation
import TestSupport
import Testing

/// `rpfs verify --files` on a point with one damaged chunk at a time, one holding part of a
/// large file, one holding directory blocks: the files and byte ranges it names are exactly
/// those whose blocks debugfs (`icheck`, `ncheck`, `bmap`) places in that chunk, the lost
/// directories are the topmost whose blocks it holds, and below them the catalog names what
/// they held.
@Suite struct VerifyFilesTests {
    private static let blockSize: UInt64 = 4096

    @Test func theFilesAndMetadataADamagedChunkHeldAreNamed() throws {
        let point = try Ext4Point()
        let cli = point.cli
        let image = cli.directory.file("root.img")
        let chunks = try StoredChunks(store: cli.directory.file("store"), keyring: cli.directory.file("keys"), point: point.id)
        let partition = UInt64(point.partitionOffset)
        // The chunk holding blob.bin's block 128, and the one holding Documents' directory block.
        let blobBlock = try #require(UInt64(try debugfs(image, ["bmap /srv/data/blob.bin 128"]).last ?? ""))
        let directoryBlock = try #require(UInt64(try debugfs(image, ["blocks /home/alice/Documents"]).last?.split(separator: " ").first ?? ""))
        let chunkOf = { (block: UInt64) in (partition + block * Self.blockSize) / chunks.chunkSize }
        // mke2fs -d keeps the directories' blocks together, away from blob.bin's data.
        #expect(chunkOf(blobBlock) != chunkOf(directoryBlock))

        // A chunk of file data: the files and byte ranges it holds, no metadata.
        let dataLoss = try verify(point, chunks, damaging: chunkOf(blobBlock), image: image)
        #expect(dataLoss.files["/disk0/part1/srv/data/blob.bin"] != nil)
        // A hard link is one file under two names: both are named.
        #expect(dataLoss.files["/disk0/part1/srv/blob-hardlink.bin"] == dataLoss.files["/disk0/part1/srv/data/blob.bin"])
        #expect(dataLoss.metadata.isEmpty)

        // A chunk of directory blocks: the topmost directories lost, and below them what the
        // catalog recorded, Documents' file among it.
        let metadataLoss = try verify(point, chunks, damaging: chunkOf(directoryBlock), image: image)
        let home = try #require(metadataLoss.metadata["/disk0/part1/home"], "\(metadataLoss.metadata.keys)")
        #expect(home.contains("/disk0/part1/home/alice/Documents/café ☕.txt"), "\(home)")
    }

    private struct Loss {
        var files: [String: [[UInt64]]] = [:]
        /// Each lost path with what the catalog named below it.
        var metadata: [String: [String]] = [:]
    }

    /// Damages chunk `chunk`, runs `verify --files --json`, checks it against debugfs, and
    /// puts the chunk back.
    private func verify(_ point: Ext4Point, _ chunks: StoredChunks, damaging chunk: UInt64, image: String) throws -> Loss {
        let cli = point.cli
        let partition = UInt64(point.partitionOffset)
        let blocksPerChunk = chunks.chunkSize / Self.blockSize
        // Every block of the chunk, by owner, from debugfs: none may be inode-table blocks
        // (their loss would take other files' metadata, which this test does not model).
        let blocks = (0 ..< blocksPerChunk).map { (chunk * chunks.chunkSize - partition) / Self.blockSize + $0 }
        let tables = try Shell.check("dumpe2fs", [image]).split(separator: "\n").compactMap { line -> ClosedRange<UInt64>? in
            guard let at = line.range(of: "Inode table at ") else { return nil }
            let bounds = line[at.upperBound...].prefix { $0 != " " }.split(separator: "-").compactMap { UInt64($0) }
            return bounds.count == 2 ? bounds[0] ... bounds[1] : nil
        }
        #expect(!blocks.contains { block in tables.contains { $0.contains(block) } })
        let owners = try debugfs(image, ["icheck " + blocks.map(String.init).joined(separator: " ")]).compactMap { line -> (UInt64, UInt64)? in
            let fields = line.split(separator: "\t")
            guard fields.count == 2, let block = UInt64(fields[0]), let inode = UInt64(fields[1]) else { return nil }
            return (block, inode)
        }
        let inodes = Set(owners.map(\.1))
        // Every name of each inode (a hard link has two); ncheck spells top-level names "//x".
        let paths = Dictionary(grouping: try debugfs(image, ["ncheck " + inodes.map(String.init).joined(separator: " ")]).compactMap { line -> (UInt64, String)? in
            let fields = line.split(separator: "\t")
            guard fields.count == 2, let inode = UInt64(fields[0]) else { return nil }
            return (inode, String(fields[1]).replacingOccurrences(of: "//", with: "/"))
        }, by: \.0).mapValues { $0.map(\.1) }
        let ownedBlocks = Set(owners.map(\.0))
        var expected = Loss()
        var directories: Set<String> = []
        for inode in inodes {
            // Reserved inodes (the journal, the resize inode) have no name and hold no file.
            guard let names = paths[inode], let path = names.first else {
                #expect(inode < 11, "inode \(inode) has no name")
                continue
            }
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: point.source + path, isDirectory: &isDirectory)
            if isDirectory.boolValue {
                directories.insert("/disk0/part1" + path)
                continue
            }
            // The file's lost ranges: its logical blocks that map into the damaged chunk.
            let size = try #require(try FileManager.default.attributesOfItem(atPath: point.source + path)[.size] as? UInt64)
            let count = (size + Self.blockSize - 1) / Self.blockSize
            let mapped = try debugfs(image, (0 ..< count).map { "bmap \"\(path)\" \($0)" }).compactMap { UInt64($0) }
            var ranges: [[UInt64]] = []
            for (logical, physical) in mapped.enumerated() where ownedBlocks.contains(physical) {
                let start = UInt64(logical) * Self.blockSize
                let end = min(start + Self.blockSize, size)
                if let last = ranges.last, last[1] == start { ranges[ranges.count - 1][1] = end } else { ranges.append([start, end]) }
            }
            for name in names { expected.files["/disk0/part1" + name] = ranges }
        }
        // The walk stops at the topmost lost directories; what lies below is the catalog's to name.
        let below = { (path: String) in directories.contains { path.hasPrefix($0 + "/") } }
        expected.files = expected.files.filter { !below($0.key) }
        let topmost = directories.filter { !below($0) }

        let object = try chunks.object(holding: chunk * chunks.chunkSize)
        let original = try Data(contentsOf: URL(fileURLWithPath: object))
        var bytes = original
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: object))
        defer { try? original.write(to: URL(fileURLWithPath: object)) }

        let result = try cli.run(["verify", point.id, "--files", "--json"])
        #expect(result.status == 5, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
        #expect((try #require(report["damaged"] as? [[String: Any]])).compactMap { $0["index"] as? UInt64 } == [chunk])
        var found = Loss()
        for file in try #require(report["files"] as? [[String: Any]]) {
            found.files[try #require(file["path"] as? String)] = try #require(file["lost_ranges"] as? [[UInt64]])
        }
        for item in try #require(report["metadata"] as? [[String: Any]]) {
            found.metadata[try #require(item["path"] as? String)] = try #require(item["below"] as? [String], "\(result.stderr)")
            #expect((item["problem"] as? String)?.contains("integrity error") == true)
        }
        #expect(found.files == expected.files)
        #expect(Set(found.metadata.keys) == topmost)

        // The text form names the same.
        let text = try cli.run(["verify", point.id, "--files"])
        #expect(text.status == 5)
        for path in expected.files.keys { #expect(text.stdout.contains("LOST     \(path): bytes "), "\(text.stdout)") }
        for path in topmost { #expect(text.stdout.contains("LOST     \(path) and everything below it: "), "\(text.stdout)") }
        return found
    }

    /// debugfs's output lines for `commands`, run in one go, without its command echoes.
    private func debugfs(_ image: String, _ commands: [String]) throws -> [String] {
        let script = image + ".commands"
        try commands.joined(separator: "\n").write(toFile: script, atomically: true, encoding: .utf8)
        return try Shell.check("debugfs", ["-f", script, image]).split(separator: "\n").map(String.init)
            .filter { !$0.hasPrefix("debugfs") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
    }
}
