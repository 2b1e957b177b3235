import Foundation
import TestSupport
import Testing

@Suite struct Ext4RestoreTests {
    @Test func copiedTreeMatchesTheSourceTree() throws {
        let point = try Ext4Point()
        let destination = point.cli.directory.file("dest")
        try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: false)
        let result = try point.cli.run(["cp", "-R", "\(point.id):/disk0/part1/", destination + "/copy"])
        #expect(result.status == 0, "\(result.stderr)")
        let copy = destination + "/copy"
        // Every name and every byte, compared with the tree the image was built from.
        let diff = try Shell.run("diff", ["-r", "--no-dereference", point.source, copy])
        #expect(diff.stdout.split(separator: "\n").allSatisfy { $0.hasPrefix("Only in \(copy): lost+found") || $0.contains("pipe") }, "\(diff.stdout)")
        for relative in ["etc/hostname", "etc/host-link", "srv/data/blob.bin", "srv/data", "home/alice", "srv/pipe", "srv/long-link",
                         "home/alice/Documents/café ☕.txt", "srv/data/sparse.img"] {
            let original = try #require(lstatOf("\(point.source)/\(relative)"), "\(relative)")
            let restored = try #require(lstatOf("\(copy)/\(relative)"), "\(relative) missing from the copy")
            #expect(original.st_mode == restored.st_mode, "\(relative) mode")
            #expect(original.st_uid == restored.st_uid && original.st_gid == restored.st_gid, "\(relative) owner")
            #expect(original.st_size == restored.st_size, "\(relative) size")
            if (original.st_mode & S_IFMT) != S_IFDIR {
                #expect(original.st_mtim.tv_sec == restored.st_mtim.tv_sec, "\(relative) mtime")
            }
        }
        #expect(lstatOf("\(copy)/etc/hostname")?.st_mtim.tv_nsec == 123_456_789, "nanoseconds set with debugfs")
        // Hard links stay linked; holes stay holes; xattrs and ACLs come back.
        let blob = try #require(lstatOf("\(copy)/srv/data/blob.bin"))
        let link = try #require(lstatOf("\(copy)/srv/blob-hardlink.bin"))
        #expect(blob.st_ino == link.st_ino && blob.st_nlink == 2)
        let sparse = try #require(lstatOf("\(copy)/srv/data/sparse.img"))
        #expect(sparse.st_blocks * 512 < 64 * 1024, "sparse file was filled in: \(sparse.st_blocks) blocks")
        #expect(try Shell.check("getfattr", ["--only-values", "-n", "user.comment", "\(copy)/etc/hostname"]) == "restore me")
        #expect(try Shell.check("getfacl", ["-c", "\(copy)/srv/data"]).contains("user:1234:rwx"))
        let target = try FileManager.default.destinationOfSymbolicLink(atPath: "\(copy)/srv/long-link")
        #expect(target.hasSuffix("/target") && target.count > 100)
    }

    @Test func listingMatchesTheSleuthKit() throws {
        let point = try Ext4Point()
        let result = try point.cli.run(["ls", "-R", "--json", "\(point.id):/disk0/part1"])
        #expect(result.status == 0, "\(result.stderr)")
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        let ours = Set(entries.compactMap { ($0["path"] as? String)?.replacingOccurrences(of: "/disk0/part1/", with: "") })
        // fls -r -p on the plaintext partition: the independent listing.
        let fls = try Shell.check("fls", ["-r", "-p", "-o", "\(point.partitionOffset / 512)", point.disk])
        let theirs = Set(fls.split(separator: "\n").compactMap { line -> String? in
            guard let tab = line.firstIndex(of: "\t") else { return nil }
            let name = String(line[line.index(after: tab)...])
            return name.hasPrefix("$OrphanFiles") ? nil : name
        })
        #expect(ours == theirs, "only rpfs: \(ours.subtracting(theirs)); only fls: \(theirs.subtracting(ours))")
        // icat of a file's inode gives the bytes rpfs copies.
        let blob = try #require(entries.first { ($0["path"] as? String)?.hasSuffix("srv/data/blob.bin") == true })
        let inode = ((blob["inode"] as? UInt64) ?? 0) & 0xFFFF_FFFF
        let icat = try Shell.run("/bin/sh", ["-c", "icat -o \(point.partitionOffset / 512) \(point.disk) \(inode) | sha256sum"])
        let copied = point.cli.directory.file("blob-copy")
        #expect(try point.cli.run(["cp", "\(point.id):/disk0/part1/srv/data/blob.bin", copied]).status == 0)
        let ours256 = try Shell.run("/bin/sh", ["-c", "sha256sum < '\(copied)'"])
        #expect(icat.stdout.prefix(64) == ours256.stdout.prefix(64))
        #expect(blob["size"] as? Int == (1 << 20) + 3)
        #expect(blob["mode"] as? Int == 0o4755)
    }

    @Test func longListingShowsModesOwnersAndTargets() throws {
        let point = try Ext4Point()
        let text = try point.cli.expectSuccess(["ls", "-l", "\(point.id):/disk0/part1/etc"])
        #expect(text.contains("lrwxrwxrwx"))
        #expect(text.contains("2021-03-04 05:06 hostname"))
        #expect(text.contains("host-link -> hostname"))
        let home = try point.cli.expectSuccess(["ls", "-l", "\(point.id):/disk0/part1/home"])
        #expect(home.contains("drwxr-x---"))
        #expect(home.contains(" 1234  5678 "))
    }

    @Test func existingFilesAreKeptUnlessForced() throws {
        let point = try Ext4Point()
        let target = point.cli.directory.file("hostname")
        try "mine\n".write(toFile: target, atomically: true, encoding: .utf8)
        let refused = try point.cli.run(["cp", "\(point.id):/disk0/part1/etc/hostname", target])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("exists"))
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "mine\n")
        #expect(try point.cli.run(["cp", "--force", "\(point.id):/disk0/part1/etc/hostname", target]).status == 0)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "web01\n")
        // A directory without -R is a usage error.
        #expect(try point.cli.run(["cp", "\(point.id):/disk0/part1/etc", point.cli.directory.file("etc-copy")]).status == 2)
    }

    @Test func damagedChunkFailsTheCopyNamingTheFileAndLeavesNoPartialFile() throws {
        let point = try Ext4Point()
        // The chunk holding blob.bin's first block, from debugfs on the plaintext filesystem.
        let blobStart = try Shell.check("debugfs", ["-R", "bmap /srv/data/blob.bin 0", point.cli.directory.file("root.img")])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let block = try #require(UInt64(blobStart))
        let diskOffset = UInt64(point.partitionOffset) + block * 4096
        let chunkIndex = diskOffset / 65536
        // Chunk objects are opaque: damage them one at a time until verify names that chunk.
        let chunksRoot = point.cli.directory.file("store/chunks")
        let objects = try FileManager.default.subpathsOfDirectory(atPath: chunksRoot).filter { $0.count == 67 }
        var culprit: String?
        for object in objects {
            let path = "\(chunksRoot)/\(object)"
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes[30] ^= 0xFF
            try bytes.write(to: URL(fileURLWithPath: path))
            let verify = try point.cli.run(["verify", point.id])
            if verify.stdout.contains("chunk \(chunkIndex) ") { culprit = path; break }
            bytes[30] ^= 0xFF
            try bytes.write(to: URL(fileURLWithPath: path))
        }
        #expect(culprit != nil, "no chunk object covers chunk \(chunkIndex)")
        let destination = point.cli.directory.file("out")
        try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: false)
        let result = try point.cli.run(["cp", "-R", "\(point.id):/disk0/part1/srv", destination])
        #expect(result.status == 5, "\(result.stderr)")
        #expect(result.stderr.contains("blob.bin") || result.stderr.contains("integrity error"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(destination)/srv/data/blob.bin"))
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: destination).filter { $0.contains(".rpfs-") }
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
    }
}

@Suite struct HostileNameTests {
    /// Directory entries rewritten on disk to "../../evil" and "..": names no filesystem
    /// should hold. rpfs must refuse them as corruption and write nothing outside DEST.
    @Test func namesThatWouldEscapeTheDestinationAreRefused() throws {
        let cli = try CLIFixture()
        let source = cli.directory.file("src")
        try FileManager.default.createDirectory(atPath: "\(source)/dir", withIntermediateDirectories: true)
        try "payload\n".write(toFile: "\(source)/dir/AAAAAAAAAA", atomically: true, encoding: .utf8)
        try "payload\n".write(toFile: "\(source)/dir/BB", atomically: true, encoding: .utf8)
        try "fine\n".write(toFile: "\(source)/ok.txt", atomically: true, encoding: .utf8)
        let image = cli.directory.file("hostile.img")
        // No metadata_csum: the edited directory block must still pass libext2fs's checks.
        try Shell.check("mke2fs", ["-q", "-F", "-t", "ext4", "-O", "^metadata_csum", "-d", source, image, "8M"])
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: image)))
        for (from, to) in [("AAAAAAAAAA", "../../evil"), ("BB", "..")] {
            let needle = Array(from.utf8)
            // The entry's name follows its 8-byte header whose name_len byte equals the length.
            let hits = (0 ..< bytes.count - needle.count).filter { i in
                i >= 2 && Array(bytes[i ..< i + needle.count]) == needle && Int(bytes[i - 2]) == needle.count
            }
            #expect(hits.count == 1, "\(from) found \(hits.count) times")
            for hit in hits { bytes.replaceSubrange(hit ..< hit + needle.count, with: Array(to.utf8)) }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: image))
        let id = String(try cli.expectSuccess(["create", "--kek", "backup", "--disk", image]).split(separator: "\n").last ?? "")

        let outside = cli.directory.file("evil")
        let destination = cli.directory.file("deep/er/dest")
        try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
        let listing = try cli.run(["ls", "\(id):/disk0/volume/dir"])
        #expect(listing.status != 0)
        #expect(listing.stderr.contains("corrupt") || listing.stderr.contains("invalid file name"), "\(listing.stderr)")
        let copy = try cli.run(["cp", "-R", "\(id):/disk0/volume", destination])
        #expect(copy.status != 0)
        #expect(!FileManager.default.fileExists(atPath: outside))
        #expect(!FileManager.default.fileExists(atPath: cli.directory.file("deep/evil")))
        // Everything written stays inside DEST.
        let written = try FileManager.default.subpathsOfDirectory(atPath: cli.directory.file("deep"))
        #expect(written.allSatisfy { $0.hasPrefix("er") }, "\(written)")
        // The healthy part of the volume is still readable.
        #expect(try cli.expectSuccess(["ls", "\(id):/disk0/volume"]).contains("ok.txt"))

        // restore sweeps the whole volume: the damaged directory fails, the rest comes back.
        let restored = cli.directory.file("deep/er/restored")
        let restore = try cli.run(["restore", id, "--to", restored, "--json", "/disk0/volume/**"])
        #expect(restore.status == 7, "\(restore.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(restore.output)) as? [String: Any])
        let failed = (report["files"] as? [[String: Any]] ?? []).filter { $0["status"] as? String == "failed" }
        #expect(failed.contains { ($0["path"] as? String ?? "").hasPrefix("/disk0/volume/dir") }, "\(failed)")
        #expect(try String(contentsOfFile: "\(restored)/disk0/volume/ok.txt", encoding: .utf8) == "fine\n")
        #expect(!FileManager.default.fileExists(atPath: outside))
        #expect(try FileManager.default.subpathsOfDirectory(atPath: cli.directory.file("deep")).allSatisfy { $0.hasPrefix("er") })
    }
}
