import FileRestore
import Foundation
import PointTestSupport
import TestSupport
import Testing

/// `cp -R` over a point with one damaged chunk: the file it holds is named and left out,
/// everything else is copied exactly, and --fail-fast stops at it.
@Suite struct DamageTests {
    /// A point whose blob.bin has one chunk object altered in the store.
    private func damagedPoint() throws -> TreePoint {
        let point = try TreePoint()
        let image = point.directory.file("first.img")
        let block = try #require(UInt64(try Shell.check("debugfs", ["-R", "bmap /srv/data/blob.bin 128", image])
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        let chunk = try point.chunkFile(holding: TreePoint.firstPartitionOffset + block * 4096)
        var object = try Data(contentsOf: URL(fileURLWithPath: chunk))
        object[object.count / 2] ^= 0x01
        try object.write(to: URL(fileURLWithPath: chunk))
        return point
    }

    @Test func aDamagedFileIsNamedAndEverythingElseIsCopied() throws {
        let point = try damagedPoint()
        let destination = point.directory.file("out")
        var options = CopyOptions()
        options.recursive = true
        final class Told { var lines: [String] = [] }
        let told = Told()
        let report = try CopyOut(namespace: try point.namespace(), options: options, onFailure: { told.lines.append("\($0)") })
            .copy(from: "/disk0/part1", to: destination)
        // The damaged file has two names (a hard link): each is named and left out.
        #expect(report.failures.count == 2)
        let lines = told.lines.sorted()
        #expect(lines.count == 2 && lines[0].hasPrefix("/disk0/part1/srv/blob-hardlink.bin: ") && lines[1].hasPrefix("/disk0/part1/srv/data/blob.bin: "), "\(lines)")
        #expect(lines.allSatisfy { $0.contains("integrity error") && $0.contains("chunk") }, "\(lines)")
        // Everything but the damaged file, byte for byte, and no partial file under any name.
        let diff = try Shell.run("diff", ["-r", "--no-dereference", point.source, destination])
        let differences = diff.stdout.split(separator: "\n").filter { !$0.contains("lost+found") && !$0.contains("is a fifo") }
        #expect(differences == ["Only in \(point.source)/srv: blob-hardlink.bin", "Only in \(point.source)/srv/data: blob.bin"], "\(differences)")
        let left = try FileManager.default.contentsOfDirectory(atPath: "\(destination)/srv/data")
        #expect(!left.contains { $0.hasPrefix(".rpfs-") }, "\(left)")
    }

    @Test func failFastStopsAtTheFirstDamage() throws {
        let point = try damagedPoint()
        var options = CopyOptions()
        options.recursive = true
        options.failFast = true
        #expect(throws: RestoreError.self) {
            try CopyOut(namespace: try point.namespace(), options: options).copy(from: "/disk0/part1", to: point.directory.file("out"))
        }
    }
}
