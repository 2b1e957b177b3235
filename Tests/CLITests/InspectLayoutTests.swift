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
}
