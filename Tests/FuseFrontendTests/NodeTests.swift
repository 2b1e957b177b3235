#if canImport(Glibc)
import Glibc
#endif
@testable import FuseFrontend
import TestSupport
import Testing

/// lookup and getattr against the source tree the volume was made from.
@Suite struct NodeTests {
    @Test func lookupFindsNamesAndRefusesMissingOnes() throws {
        let harness = try Harness.shared()
        let part1 = try harness.number(components: Harness.volume)
        let etc = try harness.number("etc")
        let reply = harness.filesystem.lookup(parent: etc, name: Array("hostname".utf8))
        let entry = try #require(reply.entry)
        #expect(entry.node >> 48 == part1 >> 48, "inside partition 1's volume")
        #expect(entry.attributes.st_ino == ino_t(entry.node))
        #expect(entry.timeout == PointFilesystem.cacheTimeout)
        #expect(entry.attributes.st_size == (try Source.lstat(harness.source("etc/hostname"))).st_size)
        #expect(harness.filesystem.lookup(parent: etc, name: Array("no-such-file".utf8)).errno == ENOENT)
        // ext4 names differ by case.
        #expect(harness.filesystem.lookup(parent: etc, name: Array("HOSTNAME".utf8)).errno == ENOENT)
        #expect(harness.filesystem.lookup(parent: 1, name: Array("disk9".utf8)).errno == ENOENT)
        // Names no volume can hold are simply not there.
        #expect(harness.filesystem.lookup(parent: etc, name: Array("..".utf8)).errno == ENOENT)
    }

    @Test func getattrMatchesTheSource() throws {
        let harness = try Harness.shared()
        for relative in ["etc/hostname", "etc/host-link", "etc/empty", "srv/data/blob.bin", "srv/data/sparse.img",
                         "srv/long-link", "srv/pipe", "srv/small.bin", "many/7-nnnnnnn", "home/alice", "home/alice/Documents/café ☕.txt"] {
            let number = try harness.number(relative)
            let attributes = try #require(harness.filesystem.getattr(number).attributes, "\(relative)")
            let original = try Source.lstat(harness.source(relative))
            #expect(attributes.st_ino == ino_t(number), "\(relative)")
            #expect(attributes.st_mode == original.st_mode, "\(relative) mode")
            #expect(attributes.st_size == original.st_size, "\(relative) size")
            // (Directories' link counts are the source filesystem's own convention.)
            if original.st_mode & S_IFMT != S_IFDIR { #expect(attributes.st_nlink == original.st_nlink, "\(relative) links") }
            #expect(attributes.st_uid == original.st_uid && attributes.st_gid == original.st_gid, "\(relative) owner")
            // mke2fs -d keeps whole seconds.
            #expect(attributes.st_mtim.tv_sec == original.st_mtim.tv_sec, "\(relative) mtime")
        }
        // Disks and volume directories: read-only directories.
        for number in [1, try harness.number(components: ["disk0"])] {
            let attributes = try #require(harness.filesystem.getattr(number).attributes)
            #expect(attributes.st_mode == S_IFDIR | 0o555 && attributes.st_ino == ino_t(number))
        }
    }

    @Test func hardLinksShareOneInodeNumber() throws {
        let harness = try Harness.shared()
        let blob = try harness.number("srv/data/blob.bin")
        let link = try harness.number("srv/blob-hardlink.bin")
        #expect(blob == link)
        let original = try Source.lstat(harness.source("srv/data/blob.bin"))
        #expect(try Source.lstat(harness.source("srv/blob-hardlink.bin")).st_ino == original.st_ino)
        #expect(harness.filesystem.getattr(link).attributes?.st_nlink == original.st_nlink)
        #expect(original.st_nlink == 2)
    }
}
