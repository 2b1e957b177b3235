#if canImport(Glibc)
import Glibc
#endif
import CFuse3
import Foundation
@testable import FuseFrontend
import PointTestSupport
import TestSupport
import Testing

/// Writes, failures and the errnos they become.
@Suite struct RefusalTests {
    /// Every write-class call reaches `refuseWrite`; none that would change what libfuse
    /// offers the kernel at init (write_buf: splice, getlk/setlk and flock: locks) is set.
    @Test func theOperationTableAnswersWritesButOffersNothingMore() {
        let ops = FuseOperations.table()
        let writes = [ops.setattr == nil, ops.mknod == nil, ops.mkdir == nil, ops.unlink == nil, ops.rmdir == nil, ops.symlink == nil,
                      ops.rename == nil, ops.link == nil, ops.write == nil, ops.create == nil, ops.setxattr == nil,
                      ops.removexattr == nil, ops.fallocate == nil]
        #expect(!writes.contains(true))
        #expect(ops.write_buf == nil && ops.getlk == nil && ops.setlk == nil && ops.flock == nil)
        #expect(ops.readdirplus != nil && ops.lseek != nil && ops.getxattr != nil && ops.listxattr != nil)
    }

    @Test func everyWriteClassCallIsEROFS() throws {
        let harness = try Harness.shared()
        let number = try harness.number("etc/hostname")
        #expect(harness.filesystem.refuseWrite().errno == EROFS)
        for flags in [O_WRONLY, O_RDWR, O_WRONLY | O_TRUNC, O_RDWR | O_APPEND] {
            #expect(harness.filesystem.open(number, flags: flags).errno == EROFS, "flags \(flags)")
        }
        guard case .open(nil, keepCache: true) = harness.filesystem.open(number, flags: O_RDONLY) else {
            throw TestFailure("a read-only open keeps the page cache")
        }
    }

    @Test func failuresBecomeTheirErrno() throws {
        let harness = try Harness.shared()
        let hostname = try harness.number("etc/hostname")
        #expect(harness.filesystem.lookup(parent: hostname, name: Array("x".utf8)).errno == ENOTDIR)
        #expect(harness.filesystem.getattr(0xDEAD_0000_0001).errno == ENOENT)
        #expect(harness.filesystem.read(try harness.number("etc"), size: 4096, offset: 0).errno == EISDIR)
        // A volume rpfs lists but cannot read: a directory with nothing to show, and why.
        let part3 = try harness.number(components: ["disk0", "part3"])
        #expect(harness.filesystem.opendir(part3).errno == EOPNOTSUPP)
        #expect(harness.filesystem.lookup(parent: part3, name: Array("x".utf8)).errno == EOPNOTSUPP)
        #expect(harness.log.isEmpty, "only EIO is logged")
    }

    /// A chunk object altered in the store: the file's read is EIO, logged with its path, and
    /// the rest of the tree still reads.
    @Test func aTamperedChunkReadsAsEIO() throws {
        let point = try TreePoint()
        let image = point.directory.file("first.img")
        let blocks = try Shell.check("debugfs", ["-R", "bmap /srv/data/blob.bin 128", image])
        let block = try #require(UInt64(blocks.trimmingCharacters(in: .whitespacesAndNewlines)))
        let chunk = try point.chunkFile(holding: TreePoint.firstPartitionOffset + block * 4096)
        var object = try Data(contentsOf: URL(fileURLWithPath: chunk))
        object[object.count / 2] ^= 0x01
        try object.write(to: URL(fileURLWithPath: chunk))

        let harness = try Harness(point)
        let blob = try harness.number("srv/data/blob.bin")
        #expect(harness.filesystem.read(blob, size: 4096, offset: 128 * 4096).errno == EIO)
        #expect(harness.log.contains { $0.hasPrefix("/disk0/part1/srv/data/blob.bin:") })
        let small = try harness.number("srv/small.bin")
        #expect(try harness.read(small, at: 0, count: 4096).bytes == (try Source.bytes(harness.source("srv/small.bin"))))
    }
}
