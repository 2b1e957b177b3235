import Foundation
import TestSupport
import Testing

/// A WOF-compressed file and a deduplication stub through cp, restore and a mount: the first
/// comes back decompressed, the second is named as failed everywhere, never copied as its stub.
@Suite struct NTFSReparseTests {
    @Test func wofFilesComeBackAndStubsFailByName() throws {
        let cli = try CLIFixture()
        let directory = cli.directory
        let tools = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Tools")
        let source = directory.file("app.dll")
        _ = try Shell.check("sh", ["-c", "{ head -c 200000 /usr/bin/bash; head -c 30000 /dev/urandom; } > '\(source)'"])
        let volume = try NTFSImageBuilder.make(in: directory, size: 16 << 20, cluster: 4096, mountOptions: "streams_interface=windows", fill: """
            mkdir "$1/Docs"; printf 'plain' > "$1/Docs/notes.txt"
            hex=$('\(tools.appendingPathComponent("wof-compress.py").path)' lzx '\(source)' '\(directory.file("stream"))')
            touch "$1/Docs/app.dll"; cat '\(directory.file("stream"))' > "$1/Docs/app.dll:WofCompressedData"
            truncate -s $(stat -c %s '\(source)') "$1/Docs/app.dll"; setfattr -n system.ntfs_reparse_data -v "0x$hex" "$1/Docs/app.dll"
            truncate -s 1000000 "$1/Docs/disk.vhdx"
            setfattr -n system.ntfs_reparse_data -v 0x130000801000000007070707070707070707070707070707 "$1/Docs/disk.vhdx"
            """)
        let id = String(try cli.expectSuccess(["create", "--kek", "backup", "--disk", volume]).split(separator: "\n").last ?? "")
        let expected = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source)))

        // cp: the WOF file decompressed; the stub fails naming the file and the tag.
        let out = directory.file("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let copied = try cli.run(["cp", "\(id):/disk0/volume/Docs/app.dll", out])
        #expect(copied.status == 0, "\(copied.stderr)")
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(out)/app.dll"))) == expected)
        // Its compressed stream is not carried along as an xattr.
        let xattrs = try Shell.check("getfattr", ["--absolute-names", "-d", "-m", "-", "\(out)/app.dll"])
        #expect(xattrs.contains("user.ntfs.attributes") && !xattrs.contains("WofCompressedData"), "\(xattrs)")
        let stub = try cli.run(["cp", "\(id):/disk0/volume/Docs/disk.vhdx", out])
        #expect(stub.status != 0)
        #expect(stub.stderr.contains("disk.vhdx") && stub.stderr.contains("0x80000013") && stub.stderr.contains("deduplication"), "\(stub.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(out)/disk.vhdx"))
        let tree = try cli.run(["cp", "-R", "\(id):/disk0/volume/Docs", "\(out)/tree"])
        #expect(tree.status != 0 && tree.stderr.contains("0x80000013"), "\(tree.stderr)")
        #expect(try String(contentsOfFile: "\(out)/tree/notes.txt", encoding: .utf8) == "plain")
        #expect(!FileManager.default.fileExists(atPath: "\(out)/tree/disk.vhdx"))

        // restore: the stub's record failed with the reason; the WOF file's digest is sha256sum's.
        let restored = try cli.run(["restore", id, "--to", directory.file("restored"), "--json", "/disk0/volume/Docs/**"])
        #expect(restored.status == 7, "\(restored.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(restored.output)) as? [String: Any])
        let records = try #require(report["files"] as? [[String: Any]])
        let failed = try #require(records.first { ($0["path"] as? String)?.hasSuffix("disk.vhdx") == true })
        #expect(failed["status"] as? String == "failed" && (failed["reason"] as? String)?.contains("0x80000013") == true, "\(failed)")
        let wof = try #require(records.first { ($0["path"] as? String)?.hasSuffix("app.dll") == true })
        #expect(wof["sha256"] as? String == String(try Shell.check("sha256sum", [source]).prefix(64)))

        // The mount: both listed and stat'ed; the WOF file reads.
        let mountpoint = directory.file("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        #expect(try cli.run(["mount", id, mountpoint]).status == 0)
        defer { _ = try? Shell.run("fusermount3", ["-uz", mountpoint]) }
        let docs = "\(mountpoint)/disk0/volume/Docs"
        #expect(try FileManager.default.contentsOfDirectory(atPath: docs).sorted() == ["app.dll", "disk.vhdx", "notes.txt"])
        #expect(lstatOf("\(docs)/disk.vhdx")?.st_size == 1_000_000)
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(docs)/app.dll"))) == expected)
        // Refused at open, as the mount refuses EFS files, so no program sees the stub's bytes.
        let descriptor = open("\(docs)/disk.vhdx", O_RDONLY)
        let failure = errno
        if descriptor >= 0 { close(descriptor) }
        #expect(descriptor == -1 && failure == EOPNOTSUPP, "open gave \(descriptor), errno \(failure)")
    }
}
