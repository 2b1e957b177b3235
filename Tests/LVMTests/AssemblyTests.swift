import BlockDevices
import Foundation
import LVM
import TestSupport
import Testing

/// Volume groups made by lvm2 itself; what the assembly shows is checked against lvm2's own
/// reports, and the bytes of each LV against what was written through lvm2's extent map.
@Suite(.serialized) struct AssemblyTests {
    /// Two 96 MiB disks, one PV each (the whole disk), and a VG over both with a linear LV
    /// that spans them and a striped one.
    final class TwoDisks {
        let directory: TemporaryDirectory
        let builder: LVMBuilder
        let disks: [String]
        var contents: [String: [UInt8]] = [:]

        init(arguments: [String] = [], volumes: [(name: String, size: String, arguments: [String])] = TwoDisks.volumes) throws {
            let directory = try TemporaryDirectory("rpfs-lvm")
            self.directory = directory
            disks = try ["a.img", "b.img"].map { try directory.image($0, size: 96 << 20) }
            builder = try LVMBuilder(name: LVMBuilder.uniqueName("rpfsasm"), pvs: disks.map { ($0, 0, 96 << 20) }, arguments: arguments)
            var random = SeededBytes(seed: 17)
            for volume in volumes {
                try builder.createVolume(volume.name, size: volume.size, volume.arguments)
                let size = try #require(try builder.volumeReport().first { $0.name == volume.name }).size
                let bytes = random.bytes(Int(size))
                try builder.write(bytes, to: volume.name)
                contents[volume.name] = bytes
            }
        }

        static let volumes: [(name: String, size: String, arguments: [String])] = [
            ("small", "4M", []), ("stripes", "24M", ["-i", "2", "-I", "64k"]), ("span", "140M", []),
        ]

        func assemble(_ which: [Int]? = nil) throws -> VolumeGroupAssembly {
            let candidates = try (which ?? Array(disks.indices)).map { index in
                VolumeGroupAssembly.Candidate(location: "/disk\(index)/volume", device: try FileBlockDevice(path: disks[index]))
            }
            return VolumeGroupAssembly.assemble(candidates)
        }
    }

    @Test func linearSpanningAndStripedVolumesMatchLVM() throws {
        let setup = try TwoDisks()
        let reportedVolumes = try setup.builder.volumeReport()
        let reportedPVs = try setup.builder.physicalReport()
        let vgUUID = try setup.builder.uuid
        let extentSize = try setup.builder.extentSize
        let segments = try setup.builder.segments("span")
        setup.builder.detach()

        let assembly = try setup.assemble()
        let group = try #require(assembly.volumeGroups.first)
        #expect(assembly.volumeGroups.count == 1)
        #expect(group.name == setup.builder.name)
        #expect(group.uuid == vgUUID)
        #expect(group.metadata.extentSize == extentSize)
        #expect(group.missing.isEmpty)
        #expect(group.notes.isEmpty)
        // The PVs in the order of the disks, by the UUID `pvs` gives each loop device.
        let pvUUIDs = setup.builder.physicalVolumes.map { pv in reportedPVs.first { $0.device == pv.loop }?.uuid }
        #expect(group.members.map(\.uuid) == pvUUIDs.compactMap { $0 })
        #expect(group.members.map(\.location) == ["/disk0/volume", "/disk1/volume"])
        #expect(assembly.physicalVolumes.map(\.volumeGroup) == [vgUUID, vgUUID])

        #expect(group.logicalVolumes.map(\.name).sorted() == reportedVolumes.map(\.name).sorted())
        for volume in group.logicalVolumes {
            let reported = try #require(reportedVolumes.first { $0.name == volume.name })
            #expect(volume.size == reported.size)
            #expect(volume.type == reported.type)
            #expect(volume.problem == nil)
            let expected = try #require(setup.contents[volume.name])
            #expect(volume.device.size == UInt64(expected.count))
            #expect(try volume.device.read(at: 0, count: expected.count) == expected, "\(volume.name)")
            // A read across the stripe and PV boundaries, at an odd offset.
            let offset = expected.count / 2 - 77_777
            #expect(try volume.device.read(at: UInt64(offset), count: 200_000) == Array(expected[offset ..< offset + 200_000]))
        }
        #expect(segments.count == 2)
        let span = try #require(group.logicalVolumes.first { $0.name == "span" })
        #expect(span.metadata.segments.map(\.extentCount) == segments.map(\.extentCount))
    }

    @Test func aMissingPVLeavesTheOtherVolumesReadable() throws {
        let setup = try TwoDisks()
        let reportedPVs = try setup.builder.physicalReport()
        let secondUUID = try #require(reportedPVs.first { $0.device == setup.builder.physicalVolumes[1].loop }?.uuid)
        let firstLoop = setup.builder.physicalVolumes[0].loop
        let onFirst = try setup.builder.volumeReport().map(\.name).filter { name in
            try setup.builder.segments(name).allSatisfy { $0.areas.allSatisfy { $0.device == firstLoop } }
        }
        setup.builder.detach()

        let group = try #require(try setup.assemble([0]).volumeGroups.first)
        #expect(group.missing == [secondUUID])
        #expect(!onFirst.isEmpty)
        for volume in group.logicalVolumes {
            if onFirst.contains(volume.name) {
                #expect(volume.problem == nil)
                let expected = try #require(setup.contents[volume.name])
                #expect(try volume.device.read(at: 0, count: expected.count) == expected)
            } else {
                #expect(volume.problem != nil, "\(volume.name) lies partly on the missing PV")
            }
        }
        let span = try #require(group.logicalVolumes.first { $0.name == "span" })
        guard case let .missingPhysicalVolume(name, uuid)? = span.problem else { Issue.record("span: \(String(describing: span.problem))"); return }
        #expect(name == "span" && uuid == secondUUID)
        #expect(throws: DiskReadError.self) { try span.device.read(at: 0, count: 512) }
        #expect(span.problem.map { "\($0)" }?.contains(secondUUID) == true)
    }
}
