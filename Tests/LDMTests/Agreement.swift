import LDM
import TestSupport
import Testing

/// Checks a disk group as rpfs assembled it against what ldmtool reports of the same disks:
/// group, disks, and each volume's GUID, type, size, stripe size and partitions.
func expectAgreement(_ group: DiskGroup, _ report: LDMToolReport) throws {
    #expect(group.guid == report.groupGUID)
    #expect(group.name == report.groupName)
    #expect(group.members.map(\.record.name) == report.disks.map(\.name))
    #expect(group.members.map(\.record.guid) == report.disks.map(\.guid))
    #expect(group.members.map { $0.location != nil } == report.disks.map(\.present))
    // libldm lists records that span VBLKs last; the database's order is not what is checked.
    let expectedVolumes = report.volumes.sorted { $0.name < $1.name }
    #expect(group.volumes.map(\.name).sorted() == expectedVolumes.map(\.name))
    for (volume, expected) in zip(group.volumes.sorted { $0.name < $1.name }, expectedVolumes) {
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
    }
}
