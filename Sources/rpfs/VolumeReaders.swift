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
            try Ext4Volume.open(volume.device, name: volume.path)
        case .ntfs:
            try NTFSVolume.open(volume.device, name: volume.path, ownership: ntfsOwnership)
        case .xfs:
            try Self.noting(XFSVolume.open(volume.device, name: volume.path))
        default:
            throw .unsupported("no reader for \(volume.info.kind.displayName) volumes")
        }
    }

    /// A volume whose notes (an XFS log not replayed) the user sees once, when it is opened.
    private static func noting(_ volume: XFSVolume) -> XFSVolume {
        for note in volume.notes { Terminal.note("\(volume.name): \(note)") }
        return volume
    }
}
