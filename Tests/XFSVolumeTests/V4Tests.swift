import Foundation
import TestSupport
import Testing
import VolumeModel
import XFSVolume

/// v4 filesystems (mkfs.xfs -m crc=0: no CRCs, v2 inodes, no file types in directories),
/// which this kernel no longer mounts: made by mkfs.xfs from a prototype file, with
/// attributes set by xfs_db, and checked against the prototype's sources.
@Suite(.timeLimit(.minutes(3))) struct V4Tests {
    @Test func prototypeTree() throws {
        let directory = try TemporaryDirectory("rpfs-xfs-v4")
        var random = SeededBytes(seed: 4)
        let big = random.bytes(3_000_000)
        let bigFile = try directory.write("big", big)
        let smallFile = try directory.write("small", Array("small".utf8))
        let longTarget = (0 ..< 80).map { "part\($0)" }.joined(separator: "/")
        var proto = """
        /dev/null
        0 0
        d--755 0 0
        small ---644 1000 100 \(smallFile)
        big -u-750 0 0 \(bigFile)
        link l--777 0 0 small
        longlink l--777 0 0 \(longTarget)
        tty c--620 0 5 4 1
        pipe p--600 0 0
        many d--700 5 6

        """
        for index in 0 ..< 700 { proto += "entry-with-a-longer-name-\(index) ---600 0 0 \(smallFile)\n" }
        proto += "$\n$\n"
        let protoFile = try directory.write("proto", Array(proto.utf8))
        let image = try directory.image("v4.img", size: 40 << 20)
        try Shell.check("bash", ["-c", "TEST_DIR=/tmp TEST_DEV=\"$1\" QA_CHECK_FS=1 mkfs.xfs -q -m crc=0 -p \"$2\" \"$1\"", "mkfs", image, protoFile])
        // xfs_db fills a value of -v N bytes with 'v': a short-form fork, then a remote value.
        let inode = try Shell.check("xfs_db", ["-r", "-c", "path /big", "-c", "inode", image]).split(separator: " ").last.flatMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        let bigNode = try #require(inode)
        try Shell.check("xfs_db", ["-x", "-c", "inode \(bigNode)", "-c", "attr_set -v 20 short", "-c", "attr_set -r -v 5000 remote", "-c", "attr_set -s -v 1 one", image])

        let volume = try openVolume(image)
        #expect(volume.info.version == 4)
        #expect(try volume.node(at: "big") == bigNode)
        #expect(try volume.contents(bigNode) == big)
        #expect(try volume.contents(volume.node(at: "small")) == Array("small".utf8))
        let small = try volume.attributes(of: volume.node(at: "small"))
        #expect(small.permissions == 0o644 && small.uid == 1000 && small.gid == 100 && small.created == nil)
        #expect(try volume.attributes(of: bigNode).permissions == 0o4750)
        #expect(try volume.symlinkTarget(of: volume.node(at: "link")) == Array("small".utf8))
        #expect(try volume.symlinkTarget(of: volume.node(at: "longlink")) == Array(longTarget.utf8))
        let tty = try volume.attributes(of: volume.node(at: "tty"))
        let device = UInt64(try Shell.check("python3", ["-c", "import os; print(os.makedev(4, 1))"]).trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(tty.kind == .characterDevice && tty.device == device && tty.permissions == 0o620 && tty.gid == 5)
        #expect(try volume.attributes(of: volume.node(at: "pipe")).kind == .fifo)
        let many = try volume.node(at: "many")
        let entries = try volume.entries(of: many)
        #expect(entries.count == 700 && entries.allSatisfy { $0.kind == .regular })
        #expect(Set(entries.map(\.name.description)) == Set((0 ..< 700).map { "entry-with-a-longer-name-\($0)" }))
        #expect(try volume.attributes(of: many).uid == 5)
        let attributes = try volume.extendedAttributes(of: bigNode)
        #expect(attributes == [
            ExtendedAttribute(name: "security.one", value: Array("v".utf8)),
            ExtendedAttribute(name: "trusted.remote", value: Array(repeating: UInt8(ascii: "v"), count: 5000)),
            ExtendedAttribute(name: "user.short", value: Array(repeating: UInt8(ascii: "v"), count: 20)),
        ])
    }
}
