#if canImport(Glibc)
import Glibc
#endif
import Foundation
import PointTestSupport
@testable import FuseFrontend
import TestSupport
import Testing

/// readlink, extended attributes and statfs.
@Suite struct MetadataTests {
    @Test func readlinkReturnsTheTargetAsStored() throws {
        let harness = try Harness.shared()
        for relative in ["etc/host-link", "srv/long-link"] {
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: harness.source(relative))
            guard case let .symlinkTarget(bytes) = harness.filesystem.readlink(try harness.number(relative)) else { throw TestFailure(relative) }
            #expect(bytes == Array(target.utf8), "\(relative)")
        }
        #expect(harness.filesystem.readlink(try harness.number("etc/hostname")).errno == EINVAL)
    }

    @Test func extendedAttributesFollowTheXattrProtocol() throws {
        let harness = try Harness.shared()
        let path = harness.source("etc/hostname")
        let number = try harness.number("etc/hostname")
        // The names getfattr lists for the source file, each ended by a NUL.
        let listed = try Shell.check("getfattr", ["-m", "-", "--absolute-names", path])
        let expected = listed.split(separator: "\n").filter { !$0.hasPrefix("#") }.flatMap { Array($0.utf8) + [UInt8(0)] }
        #expect(Set(nameList: expected).contains(Array("user.comment".utf8)))
        #expect(harness.filesystem.listxattr(number, size: 0).xattrSize == expected.count)
        #expect(harness.filesystem.listxattr(number, size: expected.count).xattrBytes.map(Set.init(nameList:)) == Set(nameList: expected))
        #expect(harness.filesystem.listxattr(number, size: expected.count - 1).errno == ERANGE)

        let value = Array("restore me".utf8)
        #expect(harness.filesystem.getxattr(number, name: "user.comment", size: 0).xattrSize == value.count)
        #expect(harness.filesystem.getxattr(number, name: "user.comment", size: 4096).xattrBytes == value)
        #expect(harness.filesystem.getxattr(number, name: "user.comment", size: value.count).xattrBytes == value)
        #expect(harness.filesystem.getxattr(number, name: "user.comment", size: 3).errno == ERANGE)
        #expect(harness.filesystem.getxattr(number, name: "user.empty", size: 0).xattrSize == 0)
        #expect(harness.filesystem.getxattr(number, name: "user.missing", size: 4096).errno == ENODATA)
        // Directories rpfs makes have none.
        #expect(harness.filesystem.getxattr(1, name: "user.comment", size: 4096).errno == ENODATA)
        #expect(harness.filesystem.listxattr(1, size: 0).xattrSize == 0)
    }

    @Test func statfsReportsTheDisksReadOnly() throws {
        let harness = try Harness.shared()
        guard case let .statfs(info) = harness.filesystem.statfs() else { throw TestFailure("statfs") }
        let diskSize = try #require(try FileManager.default.attributesOfItem(atPath: harness.point.disk)[.size] as? Int)
        #expect(Int(info.f_blocks) * Int(info.f_frsize) == diskSize)
        #expect(info.f_bsize == 4096 && info.f_namemax == 255)
        #expect(info.f_flag & UInt(ST_RDONLY) != 0)
    }
}

extension FuseReply {
    var xattrSize: Int? {
        if case let .xattrSize(size) = self { return size }
        return nil
    }

    var xattrBytes: [UInt8]? {
        if case let .xattrBytes(bytes) = self { return bytes }
        return nil
    }
}

extension Set where Element == [UInt8] {
    /// The names of a listxattr answer, each ended by a NUL.
    init(nameList: [UInt8]) {
        self.init(nameList.split(separator: 0).map(Array.init))
    }
}
