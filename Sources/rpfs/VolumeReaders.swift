import Ext4Volume
import NTFSVolume
import PartitionTable
import PointNamespace
import VolumeModel
import XFSVolume

/// Which reader opens which kind of volume, with what the user chose for it: the
/// composition root for filesystem readers.
struct VolumeReaders: Sendable {
    var ntfsOwnership = NTFSVolume.Ownership()

    @Sendable func open(_ volume: PointInventory.Volume) throws(VolumeError) -> any Volume {
        switch volume.info.kind {
        case .ext2, .ext3, .ext4:
            try Ext4Volume.open(volume.device, name: volume.path,
                                superblockCopy: volume.info.backup.map { SuperblockCopy(block: $0.offset / UInt64($0.unit), blockSize: $0.unit) })
        case .ntfs:
            try NTFSVolume.open(volume.device, name: volume.path, ownership: ntfsOwnership, bootSectorAt: volume.info.backup?.offset ?? 0)
        case .xfs:
            try XFSVolume.open(volume.device, name: volume.path)
        default:
            throw .unsupported("no reader for \(volume.info.kind.displayName) volumes")
        }
    }
}
