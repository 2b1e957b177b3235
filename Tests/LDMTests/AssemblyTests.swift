import BlockDevices
import Foundation
import LDM
import TestSupport
import Testing

/// Disk groups assembled from generated dynamic disks, checked against what ldmtool (libldm)
/// reads from the same images.
@Suite struct AssemblyTests {
    @Test(arguments: [LDMImageBuilder.Scheme.mbr, .gpt])
    func volumesMatchLDMToolAndReadBackWhatWasWritten(scheme: LDMImageBuilder.Scheme) throws {
        let disks = try LDMDisks.make(scheme)
        let report = try LDMToolReport.read(disks.builder.disks.map(\.path))
        let assembly = DiskGroupAssembly.assemble(try disks.candidates())
        let group = try #require(assembly.groups.first)
        #expect(assembly.groups.count == 1)
        #expect(group.members.map(\.location) == ["/disk0", "/disk1", "/disk2"])
        try expectAgreement(group, report)
        for volume in group.volumes {
            #expect(volume.problem == nil, "\(volume.name): \(String(describing: volume.problem))")
            let bytes = try volume.device.read(at: 0, count: Int(volume.device.size))
            #expect(bytes == disks.contents[volume.name], "\(volume.name) reads back other bytes")
        }
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
