import BlockDevices
import Foundation
import LDM
import TestSupport
import Testing

/// Disk groups assembled from generated dynamic disks, checked against what ldmtool (libldm)
/// reads from the same images.
@Suite struct AssemblyTests {
    @Test func volumesMatchLDMToolAndReadBackWhatWasWritten() throws {
        let disks = try LDMDisks.make()
        let report = try LDMToolReport.read(disks.builder.disks.map(\.path))
        let assembly = DiskGroupAssembly.assemble(try disks.candidates())
        let group = try #require(assembly.groups.first)
        #expect(assembly.groups.count == 1)
        #expect(group.guid == report.groupGUID)
        #expect(group.name == report.groupName)
        #expect(group.members.map(\.record.name) == report.disks.map(\.name))
        #expect(group.members.map(\.record.guid) == report.disks.map(\.guid))
        #expect(group.members.map(\.location) == ["/disk0", "/disk1", "/disk2"])
        // libldm lists records that span VBLKs last; the database's order is not what is checked.
        let expectedVolumes = report.volumes.sorted { $0.name < $1.name }
        #expect(group.volumes.map(\.name).sorted() == expectedVolumes.map(\.name))
        for (volume, expected) in zip(group.volumes.sorted { $0.name < $1.name }, expectedVolumes) {
            #expect(volume.problem == nil, "\(volume.name): \(String(describing: volume.problem))")
            #expect(volume.guid == expected.guid)
            #expect(volume.layout?.rawValue == expected.type)
            #expect(volume.size == expected.size * 512)
            #expect(volume.chunkSize == expected.chunkSize * 512)
            #expect(volume.extents.map(\.partition.name) == expected.partitions)
            for extent in volume.extents {
                let partition = try #require(report.partitions[extent.partition.name])
                #expect(extent.partition.start == partition.start)
                #expect(extent.partition.size == partition.size)
                #expect(extent.disk?.name == partition.disk)
            }
            let bytes = try volume.device.read(at: 0, count: Int(volume.device.size))
            #expect(bytes == disks.contents[volume.name], "\(volume.name) reads back other bytes")
        }
        // The first volume's record spans two VBLKs, so reassembly was exercised.
        #expect(disks.builder.fragmentFirstVolume)
    }

    @Test func aMissingDiskIsNamedAndOnlyTheVolumesOnItAreRefused() throws {
        let disks = try LDMDisks.make()
        let report = try LDMToolReport.read(disks.builder.disks.prefix(2).map(\.path))
        let absent = try #require(report.disks.first { !$0.present })
        let group = try #require(DiskGroupAssembly.assemble(try disks.candidates([0, 1])).groups.first)
        #expect(group.missing.map(\.guid) == [absent.guid])
        for volume in group.volumes {
            let onMissing = volume.extents.contains { $0.disk?.guid == absent.guid }
            switch volume.layout {
            case .mirrored?:
                // Its first plex is on a present disk.
                #expect(volume.problem == nil)
                #expect(try volume.device.read(at: 0, count: Int(volume.size)) == disks.contents[volume.name])
            default:
                #expect((volume.problem != nil) == onMissing, "\(volume.name)")
            }
        }
        let raid = try #require(group.volumes.first { $0.layout == .raid5 })
        #expect(raid.problem.map { "\($0)" } == "dynamic volume \(raid.name) has a partition on disk \(absent.name) (\(absent.guid)), which is not in this point")
        #expect(throws: DiskReadError.self) { try raid.device.read(at: 0, count: 512) }
    }

    @Test func aMirrorWhoseFirstPlexIsMissingReadsTheSecond() throws {
        let disks = try LDMDisks.make()
        let group = try #require(DiskGroupAssembly.assemble(try disks.candidates([0, 2])).groups.first)
        let mirror = try #require(group.volumes.first { $0.layout == .mirrored })
        #expect(mirror.problem == nil)
        #expect(try mirror.device.read(at: 0, count: Int(mirror.size)) == disks.contents[mirror.name])
    }
}
