import Foundation
import TestSupport
import Testing

@Suite struct InspectLayoutTests {
    private func layout(_ fixture: CLIFixture, _ disk: String) throws -> [String: Any] {
        let id = String(try fixture.expectSuccess(["create", "--kek", "backup", "--disk", disk, "--chunk-size", "64K"]).split(separator: "\n").last ?? "")
        let result = try fixture.run(["inspect", id, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let disks = try #require(report["disks"] as? [[String: Any]])
        return try #require(disks.first?["layout"] as? [String: Any])
    }

    @Test func damagedPrimaryGPTFallsBackToTheBackupAndSaysSo() throws {
        let fixture = try CLIFixture()
        let disk = try fixture.directory.image("gpt.img", size: 16 << 20)
        try Shell.check("sgdisk", ["-o", "-n1:2048:+4M", "-t1:8300", "-c1:first", "-n2:0:+4M", "-t2:8200", "-c2:swap", disk])
        // Corrupt the primary header's CRC field (LBA 1, offset 16).
        try Shell.check("dd", ["if=/dev/urandom", "of=\(disk)", "bs=1", "seek=\(512 + 16)", "count=4", "conv=notrunc", "status=none"])
        let layout = try layout(fixture, disk)
        let table = try #require(layout["partition_table"] as? [String: Any])
        #expect(table["scheme"] as? String == "gpt")
        #expect(table["header"] as? String == "backup")
        let anomalies = try #require(table["anomalies"] as? [String])
        #expect(anomalies.contains { $0.contains("backup") })
        let volumes = try #require(layout["volumes"] as? [[String: Any]])
        #expect(volumes.compactMap { ($0["partition"] as? [String: Any])?["name"] as? String } == ["first", "swap"])
        // The text form says it too.
        let id = String(try fixture.expectSuccess(["points"]).split(separator: " ").first ?? "")
        #expect(try fixture.expectSuccess(["inspect", id]).contains("backup header"))
    }

    @Test func mbrWithLogicalPartitionsIsNumberedAsLinuxDoes() throws {
        let fixture = try CLIFixture()
        let disk = try fixture.directory.image("mbr.img", size: 32 << 20)
        // The extended partition takes the rest, so the next lines become logicals 5 and 6.
        try Shell.check("sfdisk", ["--quiet", disk], input: "label: dos\n,4M,83\n,,5\n,4M,83\n,4M,82\n")
        let layout = try layout(fixture, disk)
        let volumes = try #require(layout["volumes"] as? [[String: Any]])
        #expect(volumes.map { $0["path"] as? String } == ["/disk0/part1", "/disk0/part5", "/disk0/part6"])
        // Independent truth: sfdisk numbers them the same way.
        let names = try Shell.check("sfdisk", ["--list", "--output", "Device", disk]).split(separator: "\n")
            .filter { $0.hasPrefix(disk) }.map { String($0.dropFirst(disk.count)) }
        #expect(names == ["1", "2", "5", "6"])
    }

    /// Storage Spaces by its GPT type (set by sgdisk), ReFS by its boot sector: named, with
    /// what to do instead, in inspect and in the listing. No tool here writes ReFS, so its
    /// sector carries just the signatures of the ReFS boot sector (OEM "ReFS" and four zero
    /// bytes at 3, "FSRS" at 16: libyal's libfsrefs format notes).
    @Test func windowsStorageIsNamedNotRead() throws {
        let fixture = try CLIFixture()
        let disk = try fixture.directory.image("windows.img", size: 16 << 20)
        try Shell.check("sgdisk", ["-o", "-n1:2048:+4M", "-t1:E75CAF8F-F680-4CEE-AFA3-B001E56EFC2D", "-n2:0:+4M", "-t2:0700", disk])
        let refs = [UInt8](repeating: 0, count: 3) + Array("ReFS".utf8) + [0, 0, 0, 0] + [0, 0, 0, 0, 0] + Array("FSRS".utf8)
        let sector = fixture.directory.file("refs-sector")
        try Data(refs + [UInt8](repeating: 0, count: 512 - refs.count)).write(to: URL(fileURLWithPath: sector))
        let start = try Shell.check("sgdisk", ["-i", "2", disk]).split(separator: "\n").first { $0.hasPrefix("First sector:") }
        let firstSector = try #require(start.flatMap { $0.split(separator: " ").dropFirst(2).first }.flatMap { Int($0) })
        try Shell.check("dd", ["if=\(sector)", "of=\(disk)", "bs=512", "seek=\(firstSector)", "conv=notrunc", "status=none"])
        let volumes = try #require(try layout(fixture, disk)["volumes"] as? [[String: Any]])
        #expect(volumes.map { $0["kind"] as? String } == ["storageSpaces", "refs"], "\(volumes)")
        #expect((volumes.first?["reason"] as? String)?.contains("restore every disk of the pool") == true, "\(volumes)")
        #expect((volumes.last?["reason"] as? String)?.contains("ReFS volumes are not readable by rpfs") == true, "\(volumes)")
        let id = String(try fixture.expectSuccess(["points"]).split(separator: " ").first ?? "")
        let text = try fixture.expectSuccess(["inspect", id])
        #expect(text.contains("Storage Spaces pool member") && text.contains("ReFS"), "\(text)")
        let listing = try fixture.run(["ls", "\(id):/disk0/part1"])
        #expect((listing.stdout + listing.stderr).contains("restore every disk of the pool"), "\(listing.stdout)\(listing.stderr)")
    }
}
