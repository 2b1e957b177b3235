import FileRestore
import Foundation
import PointTestSupport
import TestSupport
import Testing

/// Every stored chunk object of a point harmed in turn (flipped, truncated, deleted, or
/// replaced by another valid object of the store), then `cp -R` of the ext4 volume: no file
/// ever comes out with a wrong byte, every file whose bytes and metadata lie outside the harmed
/// chunks comes out, and the damage is reported as damage. Which chunks each file depends on
/// comes from debugfs on the plaintext image: its inode's block, its extents and extent-tree
/// blocks, its xattr block, and the same for every directory above it.
@Suite struct DamageSweepTests {
    enum Harm: CaseIterable { case flipped, truncated, deleted, replaced }

    @Test func everyChunkHarmedInTurn() throws {
        let point = try TreePoint()
        let chunks = try point.chunks()
        let source = point.source
        let paths = try Self.sourcePaths(source)
        let blocks = try Self.blocks(image: point.directory.file("first.img"), paths: ["/"] + paths)
        let chunkOf = { (block: UInt64) in (TreePoint.firstPartitionOffset + block * 4096) / chunks.chunkSize }
        // What opening the volume reads: the probe's first 4 KiB, the superblock and the
        // group descriptors (block 1).
        let volumeChunks: Set<UInt64> = [chunkOf(0), chunkOf(1)]
        func dependencies(_ path: String) -> Set<UInt64> {
            var chunks = Set((blocks[path] ?? []).map(chunkOf))
            var parent = path
            while parent != "/" {
                parent = (parent as NSString).deletingLastPathComponent
                chunks.formUnion((blocks[parent] ?? []).map(chunkOf))
            }
            return chunks
        }
        let needs = Dictionary(uniqueKeysWithValues: paths.map { ($0, dependencies($0)) })
        let partition = TreePoint.firstPartitionOffset / chunks.chunkSize ..< (TreePoint.firstPartitionOffset + (32 << 20)) / chunks.chunkSize
        let objects = chunks.indicesByObject.filter { $0.value.contains { partition.contains($0) } }.keys.sorted()
        #expect(objects.count > 20, "the sweep must cover the volume's metadata and data")

        for (round, object) in objects.enumerated() {
            let harmed = Set(chunks.indicesByObject[object] ?? [])
            let harm = Harm.allCases[round % Harm.allCases.count]
            let original = try Data(contentsOf: URL(fileURLWithPath: object))
            switch harm {
            case .flipped:
                var bytes = original
                bytes[bytes.count / 2] ^= 0x40
                try bytes.write(to: URL(fileURLWithPath: object))
            case .truncated:
                try original.prefix(original.count / 2).write(to: URL(fileURLWithPath: object))
            case .deleted:
                try FileManager.default.removeItem(atPath: object)
            case .replaced:
                let other = objects[(round + 1) % objects.count]
                try Data(contentsOf: URL(fileURLWithPath: other)).write(to: URL(fileURLWithPath: object))
            }
            defer { try? original.write(to: URL(fileURLWithPath: object)) }

            let destination = point.directory.file("out-\(round)")
            var options = CopyOptions()
            options.recursive = true
            final class Told: @unchecked Sendable { var lines: [String] = [] }
            let told = Told()
            var stopped: Error?
            do {
                _ = try CopyOut(namespace: try point.namespace(), options: options, onFailure: { told.lines.append("\($0)") })
                    .copy(from: "/disk0/part1", to: destination)
            } catch {
                stopped = error
            }
            let context = "round \(round): \(harm) object of chunks \(harmed.sorted())"
            let reports = told.lines + (stopped.map { ["\($0)"] } ?? [])
            for line in reports {
                #expect(line.contains("integrity error"), "\(context): \(line)")
            }
            // No wrong byte, no invented file.
            let restored = (try? Self.sourcePaths(destination)) ?? []
            for path in restored where !path.hasPrefix("/lost+found") {
                #expect(try Self.same(source + path, destination + path), "\(context): \(path) differs from its source")
            }
            // Everything outside the damage.
            let unharmedVolume = volumeChunks.isDisjoint(with: harmed)
            let missing = paths.filter { unharmedVolume && needs[$0, default: []].isDisjoint(with: harmed) && !restored.contains($0) }
            #expect(missing.isEmpty, "\(context): not restored although intact: \(missing)")
            // Damage is reported only where something needed it.
            let needed = !unharmedVolume || paths.contains { !needs[$0, default: []].isDisjoint(with: harmed) }
            if !needed { #expect(reports.isEmpty, "\(context): reported damage nothing needs: \(reports)") }
            if needed, reports.isEmpty { #expect(restored.filter { !$0.hasPrefix("/lost+found") }.count == paths.count, "\(context)") }
            try? FileManager.default.removeItem(atPath: destination)
        }
    }

    /// Every path under `root` ("/etc/hostname"), lost+found included where it exists.
    private static func sourcePaths(_ root: String) throws -> [String] {
        try FileManager.default.subpathsOfDirectory(atPath: root).map { "/\($0)" }.sorted()
    }

    /// Same kind, and for files the same bytes, for symlinks the same target.
    private static func same(_ a: String, _ b: String) throws -> Bool {
        let fm = FileManager.default
        let kindA = try fm.attributesOfItem(atPath: a)[.type] as? FileAttributeType
        let kindB = try fm.attributesOfItem(atPath: b)[.type] as? FileAttributeType
        guard kindA == kindB else { return false }
        switch kindA {
        case .typeRegular?: return try Data(contentsOf: URL(fileURLWithPath: a)) == Data(contentsOf: URL(fileURLWithPath: b))
        case .typeSymbolicLink?: return try fm.destinationOfSymbolicLink(atPath: a) == fm.destinationOfSymbolicLink(atPath: b)
        default: return true
        }
    }

    /// Each match of `pattern` as the block range its one or two numbers give.
    private static func ranges(in text: String, _ pattern: String) throws -> [ClosedRange<UInt64>] {
        let expression = try NSRegularExpression(pattern: pattern)
        return expression.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
            let numbers = (1 ..< match.numberOfRanges).compactMap { Range(match.range(at: $0), in: text).flatMap { UInt64(text[$0]) } }
            guard let first = numbers.first else { return nil }
            return first ... max(first, numbers.last ?? first)
        }
    }

    /// For each path, the volume blocks its own inode and data live in, from one debugfs run:
    /// `imap` (the inode table block) and `stat` (extents, extent-tree and xattr blocks).
    private static func blocks(image: String, paths: [String]) throws -> [String: [UInt64]] {
        let script = paths.map { "imap \"\($0)\"\nstat \"\($0)\"" }.joined(separator: "\n")
        let scriptFile = image + ".debugfs"
        try script.write(toFile: scriptFile, atomically: true, encoding: .utf8)
        let output = try Shell.check("debugfs", ["-f", scriptFile, image])
        var result: [String: [UInt64]] = [:]
        for section in output.components(separatedBy: "debugfs: ").dropFirst() {
            let command = section.prefix { $0 != "\n" }
            guard let quote = command.firstIndex(of: "\"") else { continue }
            let path = String(command[command.index(after: quote)...].dropLast())
            var found = result[path, default: []]
            if command.hasPrefix("imap") {
                found += try ranges(in: section, "located at block (\\d+)").flatMap { $0 }
            } else {
                found += try ranges(in: section, "File ACL: (\\d+)").flatMap { $0 }.filter { $0 != 0 }
                // "(0-255):1234-1489", "(ETB0):5678", "(0):99" after EXTENTS: or BLOCKS:.
                if let list = section.range(of: "EXTENTS:\n") ?? section.range(of: "BLOCKS:\n") {
                    found += try ranges(in: String(section[list.upperBound...]), "\\):(\\d+)(?:-(\\d+))?").flatMap { $0 }
                }
            }
            result[path] = found
        }
        return result
    }
}
