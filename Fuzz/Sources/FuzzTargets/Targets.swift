import Ext4Volume
import LVM
import NTFSVolume
import PartitionTable
import XFSVolume

/// The fuzz targets by name; each takes one input and must return normally whatever it holds.
public enum FuzzTargets {
    public static let all: [String: @Sendable ([UInt8]) -> Void] = [
        "point": PointTarget.run,
        "partition": partitionTable,
        "ntfs": ntfs,
        "ext4": ext4,
        "lvm": lvm,
        "lvm-metadata": lvmMetadata,
        "ldm": LDMTarget.run,
        "descriptor": NTFSStructures.descriptor,
        "reparse": NTFSStructures.reparse,
        "wof": NTFSStructures.wofStream,
        "xfs": xfs,
    ]

    /// Seeds made by rpfs's own serializers, for targets whose inputs no outside tool writes.
    public static let builtInSeeds: [String: @Sendable () -> [[UInt8]]] = ["point": PointTarget.seeds]

    /// A disk image: its partition table, then what each volume holds, as `rpfs inspect` reads them.
    static func partitionTable(_ input: [UInt8]) {
        let disk = MemoryDevice(input)
        guard let table = try? PartitionTable.read(disk), let volumes = try? table.volumes(on: disk) else {
            _ = VolumeProbe.probe(disk)
            return
        }
        for volume in volumes {
            _ = VolumeProbe.probe(volume.device)
        }
    }

    /// An NTFS volume image: opened, then walked and read throughout.
    static func ntfs(_ input: [UInt8]) {
        guard let volume = try? NTFSVolume.open(MemoryDevice(input), name: "fuzz") else { return }
        VolumeWalk.exercise(volume)
    }

    /// ext seeds are stored without their trailing zeros (Fuzz/run trims them): small inputs
    /// fuzz many times faster, and every seed's volume fits in this size.
    static let ext4DeviceSize = 4 << 20

    /// An ext2/3/4 volume image through libext2fs: opened, then walked and read throughout.
    static func ext4(_ input: [UInt8]) {
        guard let volume = try? Ext4Volume.open(MemoryDevice(input, size: ext4DeviceSize), name: "fuzz") else { return }
        VolumeWalk.exercise(volume)
    }

    /// LVM seeds are small PVs stored without their trailing zeros, like ext seeds.
    static let lvmDeviceSize = 4 << 20

    /// An LVM2 physical volume: label, metadata area headers and text, the volume group
    /// assembled, and the first and last bytes of each logical volume read.
    static func lvm(_ input: [UInt8]) {
        let assembly = VolumeGroupAssembly.assemble([.init(location: "/fuzz", device: MemoryDevice(input, size: lvmDeviceSize))])
        for volume in assembly.volumeGroups.flatMap(\.logicalVolumes) where volume.device.size > 0 {
            _ = try? volume.device.read(at: 0, count: Int(min(volume.device.size, 4096)))
            _ = try? volume.device.read(at: volume.device.size - 1, count: 1)
        }
    }

    /// LVM2's metadata text (what `vgcfgbackup` writes) through the parser and its reading.
    static func lvmMetadata(_ input: [UInt8]) {
        _ = try? VolumeGroupMetadata(input)
    }

    /// XFS seeds are stored without their trailing zeros too; their volumes are 16 MiB.
    static let xfsDeviceSize = 16 << 20

    /// An XFS volume image: opened, then walked and read throughout.
    static func xfs(_ input: [UInt8]) {
        guard let volume = try? XFSVolume.open(MemoryDevice(input, size: xfsDeviceSize), name: "fuzz") else { return }
        VolumeWalk.exercise(volume)
    }
}
