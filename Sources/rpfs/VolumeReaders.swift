import PointNamespace
import VolumeModel

/// Which reader opens which kind of volume: the composition root for filesystem readers.
enum VolumeReaders {
    @Sendable static func open(_ volume: PointInventory.Volume) throws(VolumeError) -> any Volume {
        throw .unsupported("no reader for \(volume.info.kind.displayName) yet")
    }
}
