import BlockDevices
import Foundation
import LVM
import TestSupport
import Testing

/// RAID 1 and mirror LVs: lvm2 cannot create them without device-mapper, so their metadata is
/// written in lvm2's format and checked in by `vgcfgrestore`; `lvs -a --segments` then says
/// where each leg's extents are, and the same bytes are written into every leg.
@Suite(.serialized) struct RedundancyTests {
    static func hidden(_ name: String, id: Int, extents: Int, pv: String, at extent: Int) -> String {
        """
        \(name) {
            id = "rpfs00-0000-0000-0000-0000-0000-\(String(format: "%06d", id))"
            status = ["READ", "WRITE"]
            flags = []
            segment_count = 1
            segment1 { start_extent = 0 extent_count = \(extents) type = "striped" stripe_count = 1 stripes = ["\(pv)", \(extent)] }
        }
        """
    }

    static let volumes = """
    r1 {
        id = "rpfs00-0000-0000-0000-0000-0000-000001"
        status = ["READ", "WRITE", "VISIBLE"]
        flags = []
        segment_count = 1
        segment1 {
            start_extent = 0
            extent_count = 2
            type = "raid1"
            device_count = 2
            region_size = 1024
            raids = ["r1_rmeta_0", "r1_rimage_0", "r1_rmeta_1", "r1_rimage_1"]
        }
    }
    m1 {
        id = "rpfs00-0000-0000-0000-0000-0000-000002"
        status = ["READ", "WRITE", "VISIBLE"]
        flags = []
        segment_count = 1
        segment1 {
            start_extent = 0
            extent_count = 1
            type = "mirror"
            mirror_count = 2
            region_size = 1024
            mirrors = ["m1_mimage_0", 0, "m1_mimage_1", 0]
        }
    }
    r5 {
        id = "rpfs00-0000-0000-0000-0000-0000-000009"
        status = ["READ", "WRITE", "VISIBLE"]
        flags = []
        segment_count = 1
        segment1 {
            start_extent = 0
            extent_count = 2
            type = "raid5"
            device_count = 3
            stripe_size = 128
            region_size = 1024
            raids = ["r5_rmeta_0", "r5_rimage_0", "r5_rmeta_1", "r5_rimage_1", "r5_rmeta_2", "r5_rimage_2"]
        }
    }
    \(hidden("r5_rmeta_0", id: 10, extents: 1, pv: "pv0", at: 3))
    \(hidden("r5_rimage_0", id: 11, extents: 1, pv: "pv0", at: 4))
    \(hidden("r5_rmeta_1", id: 12, extents: 1, pv: "pv1", at: 4))
    \(hidden("r5_rimage_1", id: 13, extents: 1, pv: "pv1", at: 5))
    \(hidden("r5_rmeta_2", id: 14, extents: 1, pv: "pv2", at: 1))
    \(hidden("r5_rimage_2", id: 15, extents: 1, pv: "pv2", at: 2))
    \(hidden("r1_rmeta_0", id: 3, extents: 1, pv: "pv0", at: 0))
    \(hidden("r1_rimage_0", id: 4, extents: 2, pv: "pv0", at: 1))
    \(hidden("r1_rmeta_1", id: 5, extents: 1, pv: "pv1", at: 0))
    \(hidden("r1_rimage_1", id: 6, extents: 2, pv: "pv1", at: 1))
    \(hidden("m1_mimage_0", id: 7, extents: 1, pv: "pv1", at: 3))
    \(hidden("m1_mimage_1", id: 8, extents: 1, pv: "pv2", at: 0))
    """

    final class Setup {
        let directory: TemporaryDirectory
        let disks: [String]
        let builder: LVMBuilder
        var contents: [String: [UInt8]] = [:]
        let reported: [(name: String, type: String, size: UInt64)]
        let uuids: [String]

        init() throws {
            let directory = try TemporaryDirectory("rpfs-lvm-raid")
            self.directory = directory
            disks = try ["a.img", "b.img", "c.img"].map { try directory.image($0, size: 32 << 20) }
            builder = try LVMBuilder(name: LVMBuilder.uniqueName("rpfsraid"), pvs: disks.map { ($0, 0, 32 << 20) })
            try builder.restoreLogicalVolumes(RedundancyTests.volumes, directory: directory)
            reported = try builder.volumeReport()
            var random = SeededBytes(seed: 23)
            for (volume, legs) in [("r1", ["r1_rimage_0", "r1_rimage_1"]), ("m1", ["m1_mimage_0", "m1_mimage_1"])] {
                let size = try #require(reported.first { $0.name == volume }).size
                let bytes = random.bytes(Int(size))
                for leg in legs { try builder.write(bytes, to: leg) }
                contents[volume] = bytes
            }
            let report = try builder.physicalReport()
            uuids = builder.physicalVolumes.map { pv in report.first { $0.device == pv.loop }?.uuid ?? "" }
            builder.detach()
        }

        func assemble(_ which: [Int]) throws -> VolumeGroup? {
            VolumeGroupAssembly.assemble(try which.map { .init(location: "/disk\($0)/volume", device: try FileBlockDevice(path: disks[$0])) })
                .volumeGroups.first
        }
    }

    @Test func raid1AndMirrorReadAsLVMReportsThem() throws {
        let setup = try Setup()
        #expect(Set(setup.reported.map(\.name)) == ["r1", "m1", "r5"])
        let group = try #require(try setup.assemble([0, 1, 2]))
        #expect(group.logicalVolumes.map(\.name).sorted() == setup.reported.map(\.name).sorted())
        // RAID 4/5/6/10 are listed, typed as lvm2 reports them, and refused by name.
        let r5 = try #require(group.logicalVolumes.first { $0.name == "r5" })
        #expect(r5.type == setup.reported.first { $0.name == "r5" }?.type)
        #expect(r5.problem.map { "\($0)" } == "not supported: LV r5 is raid5")
        for volume in group.logicalVolumes where volume.name != "r5" {
            let reported = try #require(setup.reported.first { $0.name == volume.name })
            #expect(volume.type == reported.type)
            #expect(volume.size == reported.size)
            let expected = try #require(setup.contents[volume.name])
            #expect(try volume.device.read(at: 0, count: expected.count) == expected, "\(volume.name)")
        }
    }

    @Test func aMissingLegIsReadFromTheOther() throws {
        let setup = try Setup()
        // Without disk0, r1's first leg is gone: its second, on disk1, is read.
        let group = try #require(try setup.assemble([1, 2]))
        let r1 = try #require(group.logicalVolumes.first { $0.name == "r1" })
        #expect(r1.problem == nil)
        #expect(try r1.device.read(at: 0, count: Int(r1.device.size)) == setup.contents["r1"])
        // Without disk0 and disk1, no leg of r1 is left; m1 still has the one on disk2.
        let last = try #require(try setup.assemble([2]))
        guard case let .missingPhysicalVolume(_, uuid)? = last.logicalVolumes.first(where: { $0.name == "r1" })?.problem else {
            Issue.record("r1 read without any leg")
            return
        }
        #expect(uuid == setup.uuids[0])
        let m1 = try #require(last.logicalVolumes.first { $0.name == "m1" })
        #expect(try m1.device.read(at: 0, count: Int(m1.device.size)) == setup.contents["m1"])
    }
}
