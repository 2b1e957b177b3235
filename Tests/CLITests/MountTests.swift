import Dispatch
import Foundation
import TestSupport
import Testing

/// A point mounted through /dev/fuse for one test, unmounted at the end.
final class Mounted: @unchecked Sendable {
    let point: Ext4Point
    let path: String

    init(_ point: Ext4Point, extra: [String] = []) throws {
        self.point = point
        path = point.cli.directory.file("mnt")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let result = try point.cli.run(["mount", point.id, path] + extra)
        guard result.status == 0 else { throw TestFailure("rpfs mount exited \(result.status): \(result.stderr)") }
    }

    var root: String { "\(path)/disk0/part1" }

    func unmount() throws {
        _ = try point.cli.run(["unmount", path])
    }

    deinit { _ = try? Shell.run("fusermount3", ["-uz", path]) }
}

func isMounted(_ path: String) throws -> Bool {
    try String(contentsOfFile: "/proc/mounts", encoding: .utf8).contains(" \(path) ")
}

@Suite(.serialized) struct MountTests {
    @Test func mountedTreeMatchesTheSourceTree() throws {
        let mount = try Mounted(try Ext4Point())
        defer { try? mount.unmount() }
        #expect(try isMounted(mount.path))
        #expect(try String(contentsOfFile: "/proc/mounts", encoding: .utf8).contains("fuse.rpfs ro,"))
        let diff = try Shell.run("diff", ["-r", "--no-dereference", mount.point.source, mount.root])
        let unexpected = diff.stdout.split(separator: "\n").filter { !$0.hasPrefix("Only in \(mount.root): lost+found") && !$0.contains("pipe") }
        #expect(unexpected.isEmpty, "\(unexpected)")
        for relative in ["etc/hostname", "etc/host-link", "srv/data/blob.bin", "srv/data", "home/alice", "srv/pipe", "srv/long-link",
                         "home/alice/Documents/café ☕.txt", "srv/data/sparse.img"] {
            let original = try #require(lstatOf("\(mount.point.source)/\(relative)"), "\(relative)")
            let mounted = try #require(lstatOf("\(mount.root)/\(relative)"), "\(relative) missing under the mount")
            #expect(original.st_mode == mounted.st_mode, "\(relative) mode")
            #expect(original.st_uid == mounted.st_uid && original.st_gid == mounted.st_gid, "\(relative) owner")
            #expect(original.st_size == mounted.st_size, "\(relative) size")
        }
        #expect(lstatOf("\(mount.root)/etc/hostname")?.st_mtim.tv_nsec == 123_456_789)
    }

    @Test func holesHardLinksAndExtendedAttributesShowThrough() throws {
        let mount = try Mounted(try Ext4Point())
        defer { try? mount.unmount() }
        // Hard links share one inode number, and that number is the one `ls --json` reports.
        let blob = try #require(lstatOf("\(mount.root)/srv/data/blob.bin"))
        let link = try #require(lstatOf("\(mount.root)/srv/blob-hardlink.bin"))
        #expect(blob.st_ino == link.st_ino && blob.st_nlink == 2)
        let listing = try mount.point.cli.expectSuccess(["ls", "--json", "\(mount.point.id):/disk0/part1/srv/data/blob.bin"])
        #expect(listing.contains("\"inode\" : \(blob.st_ino)"))
        // Holes: SEEK_HOLE and SEEK_DATA answer from the file's data ranges; du sees few blocks.
        let seek = try Shell.check("python3", ["-c", """
            import os
            fd = os.open('\(mount.root)/srv/data/sparse.img', os.O_RDONLY)
            print(os.lseek(fd, 0, os.SEEK_DATA), os.lseek(fd, 0, os.SEEK_HOLE))
            """])
        #expect(seek.trimmingCharacters(in: .whitespacesAndNewlines) == "\(256 * 4096) 0")
        let sparse = try #require(lstatOf("\(mount.root)/srv/data/sparse.img"))
        #expect(sparse.st_blocks * 512 < 64 * 1024)
        #expect(try Shell.check("cmp", ["\(mount.root)/srv/data/sparse.img", "\(mount.point.source)/srv/data/sparse.img"]).isEmpty)
        #expect(try Shell.check("getfattr", ["--only-values", "-n", "user.comment", "\(mount.root)/etc/hostname"]) == "restore me")
        #expect(try Shell.check("getfacl", ["-c", "\(mount.root)/srv/data"]).contains("user:1234:rwx"))
    }

    @Test func everyWriteIsRefusedWithEROFS() throws {
        let mount = try Mounted(try Ext4Point())
        defer { try? mount.unmount() }
        for (tool, arguments) in [("touch", ["\(mount.root)/new"]), ("mkdir", ["\(mount.root)/dir"]),
                                  ("rm", ["\(mount.root)/etc/hostname"]), ("chmod", ["777", "\(mount.root)/etc/hostname"]),
                                  ("setfattr", ["-n", "user.x", "-v", "1", "\(mount.root)/etc/hostname"]),
                                  ("sh", ["-c", "echo x >> '\(mount.root)/etc/hostname'"])] {
            let result = try Shell.run(tool, arguments)
            #expect(result.status != 0, "\(tool) succeeded")
            #expect(result.stderr.contains("Read-only file system"), "\(tool): \(result.stderr)")
        }
        #expect(try String(contentsOfFile: "\(mount.root)/etc/hostname", encoding: .utf8) == "web01\n")
    }

    @Test func sixteenConcurrentReadersGetTheRightBytes() throws {
        let mount = try Mounted(try Ext4Point(), extra: ["--cache-size", "1M"])
        defer { try? mount.unmount() }
        let expected = try Shell.check("sha256sum", ["\(mount.point.source)/srv/data/blob.bin"]).prefix(64)
        let wrong = DispatchQueue(label: "results")
        nonisolated(unsafe) var failures: [String] = []
        DispatchQueue.concurrentPerform(iterations: 16) { reader in
            let file = reader % 2 == 0 ? "srv/data/blob.bin" : "srv/blob-hardlink.bin"
            let sum = (try? Shell.check("sha256sum", ["\(mount.root)/\(file)"]))?.prefix(64) ?? "failed"
            if sum != expected { wrong.sync { failures.append("reader \(reader): \(sum)") } }
        }
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test func aSmallReadFillsThePageCacheWithItsChunkWindow() throws {
        let mount = try Mounted(try Ext4Point())
        defer { try? mount.unmount() }
        let file = "\(mount.root)/srv/data/blob.bin"
        let size = (1 << 20) + 3
        let window = 64 << 10 // the fixture's chunk size
        let fd = open(file, O_RDONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM)
        var byte = [UInt8](repeating: 0, count: 4096)
        #expect(pread(fd, &byte, 4096, off_t(8 * window + 16384)) == 4096)
        // The end: a window holding three bytes must not make the file longer.
        #expect(pread(fd, &byte, 4096, off_t(16 * window)) == 3)

        // The fill follows the reply: wait for the window's pages to be resident.
        let deadline = Date().addingTimeInterval(10)
        var resident = try residentPages(fd, size: size)
        while Date() < deadline, resident[8 * 16 ..< 9 * 16].contains(false) {
            usleep(20_000)
            resident = try residentPages(fd, size: size)
        }
        #expect(!resident[8 * 16 ..< 9 * 16].contains(false), "the window around the read is not in the page cache")
        #expect(!resident[0 ..< 16].contains(true), "a window nobody read is in the page cache")
        #expect(lstatOf(file)?.st_size == off_t(size))
        // What the page cache now serves is the file's bytes.
        #expect(try Shell.run("cmp", [file, "\(mount.point.source)/srv/data/blob.bin"]).status == 0)
    }

    /// Which 4 KiB pages of the open file are in the page cache (mincore of a mapping).
    private func residentPages(_ fd: Int32, size: Int) throws -> [Bool] {
        let pages = (size + 4095) / 4096
        guard let map = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), map != MAP_FAILED else { throw TestFailure("mmap failed: errno \(errno)") }
        defer { munmap(map, size) }
        var vector = [UInt8](repeating: 0, count: pages)
        guard mincore(map, size, &vector) == 0 else { throw TestFailure("mincore failed: errno \(errno)") }
        return vector.map { $0 & 1 == 1 }
    }

    @Test func killedDaemonLeavesNoStaleMountAndRemountWorks() throws {
        let point = try Ext4Point()
        let mount = try Mounted(point)
        let daemons = try Shell.check("pgrep", ["-f", "rpfs mount \(point.id)"]).split(separator: "\n").compactMap { Int32($0) }
        #expect(!daemons.isEmpty)
        for pid in daemons { kill(pid, SIGKILL) }
        // auto_unmount: fusermount3 notices the daemon's death and unmounts (seen to take
        // over 10 s on a machine loaded by other jobs).
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, try isMounted(mount.path) { usleep(50_000) }
        #expect(try !isMounted(mount.path))
        let again = try Mounted(point)
        defer { try? again.unmount() }
        #expect(try String(contentsOfFile: "\(again.root)/etc/hostname", encoding: .utf8) == "web01\n")
    }

    @Test func unmountOfSomethingNotMountedSaysWhyInFusermountsWords() throws {
        let directory = try TemporaryDirectory()
        let result = try Shell.run(rpfsBinary, ["unmount", directory.path], environment: [:])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot unmount \(directory.path): /usr/bin/fusermount3: failed to unmount"), "\(result.stderr)")
    }

    @Test func sigtermUnmountsCleanlyAndIdleTimeoutEndsTheMount() throws {
        let point = try Ext4Point()
        let first = try Mounted(point)
        for pid in try Shell.check("pgrep", ["-f", "rpfs mount \(point.id)"]).split(separator: "\n").compactMap({ Int32($0) }) {
            kill(pid, SIGTERM)
        }
        var deadline = Date().addingTimeInterval(10)
        while Date() < deadline, try isMounted(first.path) { usleep(50_000) }
        #expect(try !isMounted(first.path), "still mounted after SIGTERM")

        let log = point.cli.directory.file("mount.log")
        let mount = try Mounted(point, extra: ["--idle-timeout", "2s", "--log-file", log])
        #expect(try isMounted(mount.path))
        deadline = Date().addingTimeInterval(20)
        while Date() < deadline, try isMounted(mount.path) { usleep(200_000) }
        #expect(try !isMounted(mount.path), "still mounted after the idle timeout; log: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "none")")
        #expect(try Shell.run("pgrep", ["-f", "rpfs mount \(point.id)"]).stdout.isEmpty)
    }

    @Test func refusedTamperedAndKeylessPointsMountNothing() throws {
        let cli = try CLIFixture()
        let image = try cli.directory.image("plain.img", size: 8 << 20)
        try Shell.check("mke2fs", ["-q", "-F", "-t", "ext4", image])
        let flagged = String(try cli.expectSuccess(["create", "--kek", "backup", "--disk", image, "--guest-encryption", "ade-bitlocker"]).split(separator: "\n").last ?? "")
        let plain = String(try cli.expectSuccess(["create", "--kek", "backup", "--disk", image]).split(separator: "\n").last ?? "")
        let tampered = String(try cli.expectSuccess(["create", "--kek", "backup", "--disk", image, "--name", "tampered"]).split(separator: "\n").last ?? "")
        let pointFile = URL(fileURLWithPath: cli.directory.file("store/points/\(tampered).point"))
        var bytes = try Data(contentsOf: pointFile)
        bytes[bytes.count - 1] ^= 0x01
        try bytes.write(to: pointFile)
        let mountpoint = cli.directory.file("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        // The daemon reports what stops it on the command's own stderr, with its exit code,
        // and leaves nothing behind: no mount, no process.
        let refused = try cli.run(["mount", flagged, mountpoint])
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("BitLocker"))
        #expect(try !isMounted(mountpoint))
        let damaged = try cli.run(["mount", tampered, mountpoint])
        #expect(damaged.status == 5)
        #expect(damaged.stderr.contains("rpfs: error: ") && damaged.stderr.contains(tampered), "\(damaged.stderr)")
        #expect(try !isMounted(mountpoint))
        try FileManager.default.removeItem(atPath: cli.directory.file("keys/backup"))
        let keyless = try cli.run(["mount", plain, mountpoint])
        #expect(keyless.status == 4)
        #expect(keyless.stderr.contains("rpfs: error: ") && keyless.stderr.contains("backup"), "\(keyless.stderr)")
        #expect(try !isMounted(mountpoint))
        for point in [flagged, tampered, plain] {
            #expect(try Shell.run("pgrep", ["-f", "rpfs mount \(point)"]).stdout.isEmpty)
        }
    }
}
