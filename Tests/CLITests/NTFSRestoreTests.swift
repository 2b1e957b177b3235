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

/// What NTFS does not store the POSIX way, and streams, as ls, cp and restore show them.
@Suite struct NTFSStreamAndOwnerTests {
    @Test func streamsAreListedAndOwnersAndModesAreConfigurable() throws {
        let cli = try CLIFixture()
        let directory = cli.directory
        var random = SeededBytes(seed: 21)
        let big = try directory.write("big-stream.bin", random.bytes(100_000))
        let volume = try NTFSImageBuilder.make(in: directory, size: 16 << 20, cluster: 4096, mountOptions: "streams_interface=windows", fill: """
            mkdir "$1/Docs"
            printf 'contract' > "$1/Docs/deal.txt"
            printf '[ZoneTransfer]\\r\\nZoneId=3\\r\\n' > "$1/Docs/deal.txt:Zone.Identifier"
            cp '\(big)' "$1/Docs/deal.txt:thumbnail"
            """)
        let id = String(try cli.expectSuccess(["create", "--kek", "backup", "--disk", volume]).split(separator: "\n").last ?? "")

        let listing = try cli.expectSuccess(["ls", "-l", "--streams", "\(id):/disk0/volume/Docs"])
        #expect(listing.contains("    :Zone.Identifier  26 bytes\n"), "\(listing)")
        #expect(listing.contains("    :thumbnail  100000 bytes (not an xattr: too large or encrypted; copy FILE:thumbnail instead)"), "\(listing)")
        let json = try cli.expectSuccess(["ls", "--json", "--streams", "\(id):/disk0/volume/Docs/deal.txt"])
        let entry = try #require((try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])?.first)
        let streams = try #require(entry["streams"] as? [[String: Any]])
        #expect(streams.map { $0["name"] as? String } == ["Zone.Identifier", "thumbnail"])
        #expect(streams.first?["xattr"] as? String == "user.ntfs.stream.Zone.Identifier")
        #expect(streams.last?["xattr"] == nil)

        // Owner and modes: as configured; by default the user running rpfs.
        let owned = try cli.expectSuccess(["ls", "-l", "--ntfs-owner", "1000:1001", "--ntfs-modes", "640:750", "\(id):/disk0/volume"])
        #expect(owned.contains("drwxr-x---   1  1000  1001"), "\(owned)")
        let file = try cli.expectSuccess(["ls", "-l", "--ntfs-owner", "1000:1001", "--ntfs-modes", "640:750", "\(id):/disk0/volume/Docs"])
        #expect(file.contains("-rw-r-----   1  1000  1001"), "\(file)")
        let plain = try cli.expectSuccess(["ls", "-l", "\(id):/disk0/volume/Docs"])
        #expect(plain.contains("-r--r--r--   1 \(String(repeating: " ", count: 5 - "\(getuid())".count))\(getuid())"), "\(plain)")
        for bad in [["--ntfs-owner", "alice"], ["--ntfs-owner", "1:2:3"], ["--ntfs-modes", "999:555"], ["--ntfs-modes", "644"]] {
            #expect(try cli.run(["ls"] + bad + ["\(id):/"]).status == 2, "\(bad)")
        }

        // cp brings the small stream back as an xattr and says which stream it could not.
        let out = directory.file("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let copied = try cli.run(["cp", "\(id):/disk0/volume/Docs/deal.txt", out])
        #expect(copied.status == 0, "\(copied.stderr)")
        #expect(try Shell.check("getfattr", ["--only-values", "-n", "user.ntfs.stream.Zone.Identifier", "\(out)/deal.txt"]) == "[ZoneTransfer]\r\nZoneId=3\r\n")
        #expect(copied.stderr.contains("stream 'thumbnail' (100000 bytes) not restored"), "\(copied.stderr)")
    }

    /// A stream too large for an xattr (evidence hidden in an alternate data stream, say) is
    /// a file of its own named FILE:STREAM, as on Windows: cp copies it and a mount shows it
    /// to lookups, never in listings. Checked against The Sleuth Kit's icat of the attribute.
    @Test func aStreamOfAnySizeIsAFileNamedFileColonStream() throws {
        let cli = try CLIFixture()
        let directory = cli.directory
        var random = SeededBytes(seed: 22)
        let payload = random.bytes(3_000_000)
        let big = try directory.write("payload.bin", payload)
        let volume = try NTFSImageBuilder.make(in: directory, size: 16 << 20, cluster: 4096, mountOptions: "streams_interface=windows", fill: """
            mkdir "$1/Docs"
            printf 'contract' > "$1/Docs/deal.txt"
            printf '[ZoneTransfer]\\r\\nZoneId=3\\r\\n' > "$1/Docs/deal.txt:Zone.Identifier"
            cp '\(big)' "$1/Docs/deal.txt:payload"
            touch -d '2020-01-02 03:04:05 UTC' "$1/Docs/deal.txt"
            """)
        let id = String(try cli.expectSuccess(["create", "--kek", "backup", "--disk", volume]).split(separator: "\n").last ?? "")
        let out = directory.file("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)

        // Into a directory: named FILE:STREAM, with the file's times; Windows matches stream
        // names without regard to case.
        let copied = try cli.run(["cp", "\(id):/disk0/volume/Docs/deal.txt:PAYLOAD", out])
        #expect(copied.status == 0, "\(copied.stderr)")
        let written = "\(out)/deal.txt:PAYLOAD"
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: written))) == payload)
        #expect(lstatOf(written)?.st_mtim.tv_sec == 1_577_934_245)
        // The Sleuth Kit reads the same attribute: record number from ifind, attribute id from istat.
        let record = try Shell.check("ifind", ["-n", "/Docs/deal.txt", volume]).trimmingCharacters(in: .whitespacesAndNewlines)
        // istat prints "Type: $DATA (128-3)   Name: payload   Non-Resident ...".
        let line = try #require(try Shell.check("istat", [volume, record]).split(separator: "\n").first { $0.contains("Name: payload") })
        let marker = try #require(line.firstRange(of: "(128-"))
        let attribute = line[marker.upperBound...].prefix { $0.isNumber }
        let icat = directory.file("icat.bin")
        _ = try Shell.check("sh", ["-c", "icat '\(volume)' '\(record)-128-\(attribute)' > '\(icat)'"])
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: icat))) == payload, "icat \(record)-128-\(attribute)")

        // Under a name of one's own; a small stream too.
        #expect(try cli.run(["cp", "\(id):/disk0/volume/Docs/deal.txt:Zone.Identifier", "\(out)/zone.txt"]).status == 0)
        #expect(try String(contentsOfFile: "\(out)/zone.txt", encoding: .utf8) == "[ZoneTransfer]\r\nZoneId=3\r\n")

        // A stream that is not there: not found, naming the ones that are.
        let missing = try cli.run(["cp", "\(id):/disk0/volume/Docs/deal.txt:nothing", out])
        #expect(missing.status == 6)
        #expect(missing.stderr.contains("no stream 'nothing'") && missing.stderr.contains("'payload'"), "\(missing.stderr)")
        // A plan entry naming it restores it, with its digest in the report.
        let restored = try cli.run(["restore", id, "--to", directory.file("restored"), "--json", "/disk0/volume/Docs/deal.txt:payload"])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: directory.file("restored/disk0/volume/Docs/deal.txt:payload")))) == payload)
        #expect(restored.stdout.contains(String(try Shell.check("sha256sum", [written]).prefix(64))), "the report has sha256sum's digest")
        // Listings do not show streams as files; named, one is listed as the file it is.
        #expect(try cli.expectSuccess(["ls", "\(id):/disk0/volume/Docs"]) == "deal.txt\n")
        let single = try cli.run(["ls", "-l", "\(id):/disk0/volume/Docs/deal.txt:payload"])
        #expect(single.status == 0 && single.stdout.contains(" 3000000 ") && single.stdout.hasSuffix("deal.txt:payload\n"), "\(single.stdout)\(single.stderr)")
        let below = try cli.run(["ls", "\(id):/disk0/volume/Docs/deal.txt:payload/x"])
        #expect(below.status != 0 && below.stderr.contains("not a directory"), "\(below.stderr)")

        // Through a mount: the same lookup, an inode of its own, the stream's size and bytes.
        let mountpoint = directory.file("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        #expect(try cli.run(["mount", id, mountpoint]).status == 0)
        defer { _ = try? Shell.run("fusermount3", ["-uz", mountpoint]) }
        let docs = "\(mountpoint)/disk0/volume/Docs"
        let stream = try #require(lstatOf("\(docs)/deal.txt:payload"))
        let file = try #require(lstatOf("\(docs)/deal.txt"))
        #expect(stream.st_size == 3_000_000 && stream.st_ino != file.st_ino && file.st_size == 8)
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(docs)/deal.txt:payload"))) == payload)
        #expect(try FileManager.default.contentsOfDirectory(atPath: docs) == ["deal.txt"])
        #expect(lstatOf("\(docs)/deal.txt:nothing") == nil && errno == ENOENT)
    }
}
