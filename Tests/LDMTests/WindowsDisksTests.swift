import BlockDevices
import LDM
import TestSupport
import Testing

/// Dynamic disks Windows itself made (libldm's test data): the disk groups must agree with
/// ldmtool, and every volume must read as the NTFS Windows put there.
@Suite struct WindowsDisksTests {
    private func assemble(_ images: [String]) throws -> DiskGroupAssembly {
        DiskGroupAssembly.assemble(try images.enumerated().map { index, image in try dynamicDisk(image, location: "/disk\(index)") })
    }

    @Test(arguments: ["2003r2", "2008r2"])
    func everyVolumeMatchesLDMToolAndHoldsNTFS(release: String) throws {
        let directory = try TemporaryDirectory("rpfs-ldm-windows")
        let images = try WindowsDynamicDisks.unpack(release, into: directory)
        let report = try LDMToolReport.read(images)
        let assembly = try assemble(images)
        #expect(assembly.disks.allSatisfy { $0.problem == nil })
        let group = try #require(assembly.groups.first)
        #expect(assembly.groups.count == 1)
        try expectAgreement(group, report)
        for volume in group.volumes {
            #expect(volume.problem == nil, "\(volume.name): \(String(describing: volume.problem))")
            let boot = try volume.device.read(at: 0, count: 512)
            #expect(Array(boot[3 ..< 11]) == Array("NTFS    ".utf8), "\(volume.name)")
        }
    }

    @Test func aRAID5VolumeWithoutOneDiskNamesItAndAMirrorReadsFromEitherDisk() throws {
        let directory = try TemporaryDirectory("rpfs-ldm-windows")
        let images = try WindowsDynamicDisks.unpack("2008r2", into: directory)
        let partial = images.filter { !$0.hasSuffix("raid5-3.img") }
        let report = try LDMToolReport.read(partial)
        let absent = report.disks.filter { !$0.present }
        let group = try #require(try assemble(partial).groups.first)
        try expectAgreement(group, report)
        let raid = try #require(group.volumes.first { $0.layout == .raid5 })
        let missing = try #require(raid.extents.compactMap(\.disk).first { disk in absent.contains { $0.guid == disk.guid } })
        #expect(raid.problem.map { "\($0)" } == "dynamic volume \(raid.name) has a partition on disk \(missing.name) (\(missing.guid)), which is not in this point")

        for kept in ["mirrored-1.img", "mirrored-2.img"] {
            let one = images.filter { !$0.contains("mirrored") || $0.hasSuffix(kept) }
            let mirror = try #require(try assemble(one).groups.first?.volumes.first { $0.layout == .mirrored })
            #expect(mirror.problem == nil, "\(kept): \(String(describing: mirror.problem))")
            #expect(Array(try mirror.device.read(at: 3, count: 8)) == Array("NTFS    ".utf8))
        }
    }
}
