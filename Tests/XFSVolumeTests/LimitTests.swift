import Foundation
import TestSupport
import Testing
import VolumeModel
import XFSVolume

/// What the reader refuses, each with the error that says why.
@Suite(.timeLimit(.minutes(3))) struct LimitTests {
    /// mkfs.xfs below its 300 MB minimum (fstests' override), one AG, from a prototype file.
    static func makeImage(in directory: TemporaryDirectory, options: [String] = [], proto: String) throws -> String {
        let image = try directory.image("xfs.img", size: 16 << 20)
        let protoFile = try directory.write("proto", Array(proto.utf8))
        try Shell.check("bash", ["-c", "TEST_DIR=/tmp TEST_DEV=\"$1\" QA_CHECK_FS=1 mkfs.xfs -q -d agcount=1 \"${@:3}\" -p \"$2\" \"$1\"", "mkfs", image, protoFile] + options)
        return image
    }

    static func error(_ body: () throws(VolumeError) -> Void) -> VolumeError? {
        do {
            try body()
            return nil
        } catch {
            return error
        }
    }

    /// Node numbers must stay below 2^48: an AG count whose inode numbers would pass that is
    /// refused at open; one that just fits gets past the check (and then fails on the device
    /// it does not fit). The superblock is rewritten by xfs_db, which recomputes its CRC.
    @Test(arguments: [(UInt64(140_000), true), (131_072, false)])
    func inodeNumbersBeyond48Bits(agCount: UInt64, refused: Bool) throws {
        let directory = try TemporaryDirectory("rpfs-xfs-limits")
        let image = try Self.makeImage(in: directory, proto: "/dev/null\n0 0\nd--755 0 0\n$\n")
        // 2^28 blocks an AG and 8 inodes a block: 31 bits below the AG number.
        try Shell.check("xfs_db", ["-x", "-c", "sb 0", "-c", "write -d agblocks 268435456", "-c", "write -d agblklog 28",
                                   "-c", "write -d agcount \(agCount)", "-c", "write -d dblocks \(agCount << 28)", image])
        let error = Self.error { () throws(VolumeError) in _ = try openVolume(image) }
        if refused {
            guard case let .unsupported(why) = error else { Issue.record("\(String(describing: error))"); return }
            #expect(why.contains("more than 48 bits"), "\(why)")
        } else {
            guard case let .corrupt(_, structure, _, problem) = error else { Issue.record("\(String(describing: error))"); return }
            #expect(structure == "superblock" && problem.contains("do not fit the"), "\(problem)")
        }
    }

    /// Incompatible features this reader does not read (an unfinished xfs_repair's flag,
    /// metadata directories) keep the volume closed; xfs_db sets them beside mkfs.xfs's own.
    @Test(arguments: [UInt32(0x10), 0x100])
    func unknownIncompatibleFeatures(_ feature: UInt32) throws {
        let directory = try TemporaryDirectory("rpfs-xfs-limits")
        let image = try Self.makeImage(in: directory, proto: "/dev/null\n0 0\nd--755 0 0\n$\n")
        let printed = try Shell.check("xfs_db", ["-r", "-c", "sb 0", "-c", "print features_incompat", image])
        let current = try #require(UInt32(printed.split(separator: "x").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "", radix: 16))
        #expect(Self.error { () throws(VolumeError) in _ = try openVolume(image) } == nil)
        try Shell.check("xfs_db", ["-x", "-c", "sb 0", "-c", "write -d features_incompat \(current | feature)", image])
        let error = Self.error { () throws(VolumeError) in _ = try openVolume(image) }
        guard case let .unsupported(why) = error else { Issue.record("\(String(describing: error))"); return }
        #expect(why.contains("0x\(String(feature, radix: 16))"), "\(why)")
    }

    /// A realtime file keeps its data on the realtime device, which a backup of the data
    /// device does not hold: the volume (made with a realtime subvolume by mkfs.xfs -r) and
    /// its directories read, the file's data is refused as unsupported. mkfs.xfs makes no
    /// realtime files from a prototype and this kernel has no realtime support, so xfs_db
    /// sets the flag on a file.
    @Test func realtimeFilesAreRefused() throws {
        let directory = try TemporaryDirectory("rpfs-xfs-realtime")
        let source = try directory.write("source", Array("realtime data".utf8))
        let realtime = try directory.image("rt.img", size: 8 << 20)
        let image = try Self.makeImage(in: directory, options: ["-r", "rtdev=\(realtime)"],
                                       proto: "/dev/null\n0 0\nd--755 0 0\nrtfile ---644 0 0 \(source)\n$\n")
        try Shell.check("xfs_db", ["-x", "-c", "path /rtfile", "-c", "write -d core.realtime 1", image])
        let volume = try openVolume(image)
        #expect(volume.info.hasRealtimeSubvolume)
        let node = try volume.node(at: "rtfile")
        #expect(try volume.attributes(of: node).size == 13)
        var buffer = [UInt8](repeating: 0, count: 16)
        let error = Self.error { () throws(VolumeError) in
            _ = try buffer.withUnsafeMutableBytes { buffer in Result { () throws(VolumeError) in try volume.read(node, at: 0, into: buffer) } }.get()
        }
        guard case let .unsupported(why) = error else { Issue.record("\(String(describing: error))"); return }
        #expect(why.contains("realtime"), "\(why)")
        #expect(Self.error { () throws(VolumeError) in _ = try volume.dataRanges(of: node) } != nil)
    }
}
