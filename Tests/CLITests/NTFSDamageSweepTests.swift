import Foundation
import TestSupport
import Testing

/// Every stored chunk object of a point of an MBR disk holding NTFS harmed in turn (flipped,
/// truncated, deleted, replaced by another valid object of the store), then `rpfs cp -R` of
/// the volume: it exits 0 with every file exact, or 5 naming integrity errors; never another
/// status, never a file with a wrong byte or one the source does not have, never a
/// temporary file left behind.
@Suite struct NTFSDamageSweepTests {
    @Test func everyChunkOfAnNTFSVolumeHarmedInTurn() throws {
        let cli = try CLIFixture()
        let directory = cli.directory
        let source = directory.file("src")
        var random = SeededBytes(seed: 77)
        for folder in ["Users/Alice/Documents", "Users/Bob", "ProgramData/App", "Windows/Temp"] {
            try FileManager.default.createDirectory(atPath: "\(source)/\(folder)", withIntermediateDirectories: true)
        }
        for index in 0 ..< 40 {
            let folder = ["Users/Alice/Documents", "Users/Bob", "ProgramData/App", "Windows/Temp"][index % 4]
            // Sizes from resident (under a record) to several chunks.
            let size = [10, 700, 5000, 70_000, 300_000][index % 5]
            try Data(random.bytes(size)).write(to: URL(fileURLWithPath: "\(source)/\(folder)/file-\(index) é.bin"))
        }
        let volume = try NTFSImageBuilder.make(in: directory, size: 16 << 20, cluster: 4096, fill: "cp -r '\(source)'/. \"$1\"/")
        let disk = try directory.image("disk.img", size: 20 << 20)
        try Shell.check("sfdisk", ["-q", disk], input: "label: dos\nstart=2048, size=32768, type=7\n")
        try Shell.check("dd", ["if=\(volume)", "of=\(disk)", "bs=1M", "seek=1", "conv=notrunc", "status=none"])
        let id = String(try cli.expectSuccess(["create", "--kek", "backup", "--disk", disk, "--chunk-size", "64K"]).split(separator: "\n").last ?? "")
        let sources = try FileManager.default.subpathsOfDirectory(atPath: source)

        let chunks = try StoredChunks(store: directory.file("store"), keyring: directory.file("keys"), point: id)
        let objects = chunks.indicesByObject.keys.sorted()
        #expect(objects.count > 20, "the sweep must cover the volume's metadata and data")
        var outcomes: [Int32: Int] = [:]
        for (round, object) in objects.enumerated() {
            let original = try Data(contentsOf: URL(fileURLWithPath: object))
            switch round % 4 {
            case 0:
                var bytes = original
                bytes[bytes.count / 2] ^= 0x40
                try bytes.write(to: URL(fileURLWithPath: object))
            case 1:
                try original.prefix(original.count / 2).write(to: URL(fileURLWithPath: object))
            case 2:
                try FileManager.default.removeItem(atPath: object)
            default:
                try Data(contentsOf: URL(fileURLWithPath: objects[(round + 1) % objects.count])).write(to: URL(fileURLWithPath: object))
            }
            defer { try? original.write(to: URL(fileURLWithPath: object)) }

            let destination = directory.file("out-\(round)")
            let copy = try cli.run(["cp", "-R", "\(id):/disk0/part1", destination])
            let context = "round \(round), chunks \(chunks.indicesByObject[object] ?? [])"
            outcomes[copy.status, default: 0] += 1
            #expect(copy.status == 0 || copy.status == 5, "\(context): \(copy.stderr)")
            if copy.status == 5 {
                #expect(copy.stderr.contains("integrity error"), "\(context): \(copy.stderr)")
            }
            let restored = (try? FileManager.default.subpathsOfDirectory(atPath: destination)) ?? []
            for path in restored {
                #expect(!path.contains(".rpfs-"), "\(context): temporary file \(path) left")
                var isDirectory: ObjCBool = false
                #expect(FileManager.default.fileExists(atPath: "\(source)/\(path)", isDirectory: &isDirectory), "\(context): \(path) is not in the source")
                if !isDirectory.boolValue {
                    #expect(FileManager.default.contentsEqual(atPath: "\(source)/\(path)", andPath: "\(destination)/\(path)"), "\(context): \(path) differs")
                }
            }
            if copy.status == 0 { #expect(Set(restored) == Set(sources), "\(context): exit 0 but the tree is incomplete") }
            try? FileManager.default.removeItem(atPath: destination)
        }
        // Both outcomes occur: chunks nothing needs, and chunks a file or the volume needs.
        #expect(outcomes[0, default: 0] > 0 && outcomes[5, default: 0] > 0, "\(outcomes)")
    }
}
