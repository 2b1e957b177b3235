import Foundation
import TestSupport
import Testing

/// A Windows-style disk: GPT with an NTFS partition made by mkntfs and filled through ntfs-3g.
@Suite struct NTFSRestoreTests {
    @Test func filesComeBackFromAnNTFSPartition() throws {
        let cli = try CLIFixture()
        let directory = cli.directory
        var random = SeededBytes(seed: 9)
        let report = random.bytes(300_000)
        let reportFile = try directory.write("report.bin", report)
        let volume = try NTFSImageBuilder.make(in: directory, size: 24 << 20, cluster: 4096, label: "Windows", fill: """
            mkdir -p "$1/Users/Alice/Documents"
            cp '\(reportFile)' "$1/Users/Alice/Documents/Report.bin"
            printf 'hello from windows\\r\\n' > "$1/Users/Alice/Notes.txt"
            """)
        let disk = try directory.image("disk.img", size: 32 << 20)
        try Shell.check("sgdisk", ["-o", "-n1:2048:+24M", "-t1:0700", "-c1:Basic data partition", disk])
        try Shell.check("dd", ["if=\(volume)", "of=\(disk)", "bs=1M", "seek=1", "conv=notrunc", "status=none"])
        let id = String(try cli.expectSuccess(["create", "--kek", "backup", "--disk", disk, "--chunk-size", "64K"]).split(separator: "\n").last ?? "")

        #expect(try cli.expectSuccess(["inspect", id]).contains("NTFS"))
        let listing = try cli.expectSuccess(["ls", "-R", "\(id):/disk0/part1"])
        #expect(listing.contains("Report.bin"))
        #expect(!listing.contains("$MFT"), "metafiles must stay hidden")
        // Lookups are case-insensitive, as on Windows; listings keep the stored case.
        #expect(try cli.expectSuccess(["ls", "\(id):/disk0/part1/users/alice"]).split(separator: "\n").sorted() == ["Documents", "Notes.txt"])
        let destination = directory.file("restored")
        try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
        let copied = try cli.run(["cp", "-R", "\(id):/disk0/part1/Users", destination])
        #expect(copied.status == 0, "\(copied.stderr)")
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(destination)/Users/Alice/Documents/Report.bin"))) == report)
        #expect(try String(contentsOfFile: "\(destination)/Users/Alice/Notes.txt", encoding: .utf8) == "hello from windows\r\n")
    }
}
