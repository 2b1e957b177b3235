import BlockDevices
import Foundation
import LVM
import TestSupport
import Testing

/// Old-style snapshots. lvm2 cannot create one without device-mapper, and no tool writes an
/// exception store without it, so the store is written here byte by byte in the kernel's
/// persistent format (drivers/md/dm-snap-persistent.c: header chunk "SnAp", valid, version 1,
/// chunk size; areas of one chunk of 16-byte (old, new) exceptions followed by their data
/// chunks), as GPTBuilder writes what sgdisk cannot. The truth is the ext4 image mke2fs made
/// before the origin changed: the snapshot must read as exactly that image.
@Suite(.serialized) struct SnapshotTests {
    static let chunk = 4096

    static func volume(_ name: String, id: Int, visible: Bool, extents: Int, at extent: Int) -> String {
        """
        \(name) { id = "rpfs00-0000-0000-0000-0000-0000-\(String(format: "%06d", id))" status = ["READ", "WRITE"\(visible ? ", \"VISIBLE\"" : "")] flags = []
            segment_count = 1
            segment1 { start_extent = 0 extent_count = \(extents) type = "striped" stripe_count = 1 stripes = ["pv0", \(extent)] } }
        """
    }

    static let volumes = """
    \(volume("orig", id: 1, visible: true, extents: 2, at: 0))
    \(volume("snap", id: 2, visible: true, extents: 1, at: 2))
    snapshot0 { id = "rpfs00-0000-0000-0000-0000-0000-000003" status = ["READ"] flags = []
        segment_count = 1
        segment1 { start_extent = 0 extent_count = 2 type = "snapshot" chunk_size = 8 origin = "orig" cow_store = "snap" } }
    """

    /// An exception store holding `before`'s chunks wherever `after` differs, one area after another.
    static func exceptionStore(before: [UInt8], after: [UInt8], size: Int) -> [UInt8] {
        var store = [UInt8](repeating: 0, count: size)
        let header: [UInt32] = [0x7041_6E53, 1, 1, UInt32(chunk / 512)]
        for (index, value) in header.enumerated() { store.writeLE(value, at: index * 4) }
        let perArea = chunk / 16
        var next = 0
        for old in 0 ..< before.count / chunk where before[old * chunk ..< (old + 1) * chunk] != after[old * chunk ..< (old + 1) * chunk] {
            let area = next / perArea
            let metadata = 1 + area * (perArea + 1)
            let new = metadata + 1 + next % perArea
            store.writeLE(UInt64(old), at: metadata * chunk + (next % perArea) * 16)
            store.writeLE(UInt64(new), at: metadata * chunk + (next % perArea) * 16 + 8)
            store[new * chunk ..< (new + 1) * chunk] = before[old * chunk ..< (old + 1) * chunk]
            next += 1
        }
        return store
    }

    @Test func theSnapshotReadsAsTheOriginWasAndTheOriginAsItIs() throws {
        let directory = try TemporaryDirectory("rpfs-lvm-snap")
        let tree = directory.file("tree")
        try VMSourceTree.build(at: tree)
        let image = directory.file("fs.img")
        try Shell.check("mke2fs", ["-q", "-F", "-t", "ext4", "-b", "4096", "-d", tree, image, "8M"])
        let before = [UInt8](try Data(contentsOf: URL(fileURLWithPath: image)))
        // The origin changes after the snapshot: a file rewritten, one added.
        try "changed after the snapshot\n".write(toFile: directory.file("new"), atomically: true, encoding: .utf8)
        try Shell.check("debugfs", ["-w", "-R", "rm /etc/hostname", image])
        try Shell.check("debugfs", ["-w", "-R", "write \(directory.file("new")) /etc/hostname", image])
        let after = [UInt8](try Data(contentsOf: URL(fileURLWithPath: image)))
        #expect(before != after)

        let disk = try directory.image("pv.img", size: 32 << 20)
        let builder = try LVMBuilder(name: LVMBuilder.uniqueName("rpfssnap"), pvs: [(disk, 0, 32 << 20)])
        try builder.restoreLogicalVolumes(Self.volumes, directory: directory)
        let reported = try builder.volumeReport()
        let storeSize = try #require(reported.first { $0.name == "snap" }).size
        try builder.write(after, to: "orig")
        try builder.write(Self.exceptionStore(before: before, after: after, size: Int(storeSize)), to: "snap")
        builder.detach()

        #expect(Set(reported.map(\.name)) == ["orig", "snap"])
        let group = try #require(VolumeGroupAssembly.assemble([.init(location: "/disk0/volume", device: try FileBlockDevice(path: disk))]).volumeGroups.first)
        let snap = try #require(group.logicalVolumes.first { $0.name == "snap" })
        let orig = try #require(group.logicalVolumes.first { $0.name == "orig" })
        #expect(snap.type == "snapshot")
        #expect(snap.size == orig.size)
        #expect(try snap.device.read(at: 0, count: before.count) == before)
        #expect(try orig.device.read(at: 0, count: after.count) == after)
    }
}

extension [UInt8] {
    mutating func writeLE<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        for index in 0 ..< MemoryLayout<T>.size {
            self[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index))
        }
    }
}
