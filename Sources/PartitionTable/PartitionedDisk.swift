import BlockDevices

/// Which GPT header the partitions came from. A backup header means the primary one or its
/// entries are damaged: `inspect` says so, since the next write by a careless tool may lose
/// the only good copy.
public enum GPTHeaderSource: Sendable, Hashable {
    case primary
    case backup(reason: String)
}

public enum PartitionScheme: Sendable, Hashable {
    case mbr
    case gpt(header: GPTHeaderSource)
    /// No partition table: the whole disk is one volume.
    case none
}

/// What `PartitionTable.read` found on a disk.
public struct PartitionedDisk: Sendable {
    public let scheme: PartitionScheme
    /// 512, or 4096 for a GPT written for 4K-native disks.
    public let sectorSize: Int
    /// The GPT disk GUID, or the MBR disk signature as fdisk shows it ("0x1eb0916b").
    public let identifier: String?
    /// Every entry that lies inside the disk, in number order, extended containers included.
    public let partitions: [Partition]
    /// Damage that did not stop the table from being read, one readable sentence each.
    public let anomalies: [String]

    static func unpartitioned(anomalies: [String] = []) -> PartitionedDisk {
        PartitionedDisk(scheme: .none, sectorSize: 512, identifier: nil, partitions: [], anomalies: anomalies)
    }

    /// The volumes to probe and show: `part<N>` for each partition except extended
    /// containers, or one `volume` for the whole of an unpartitioned disk. `disk` must be the
    /// disk this table was read from.
    public func volumes(on disk: any BlockDevice) throws(PartitionTableError) -> [DiskVolume] {
        if scheme == .none {
            return [DiskVolume(name: "volume", partition: nil, device: try Self.slice(disk, offset: 0, size: disk.size))]
        }
        var volumes: [DiskVolume] = []
        for partition in partitions where !partition.type.isExtendedContainer {
            let device = try Self.slice(disk, offset: partition.start, size: partition.size)
            volumes.append(DiskVolume(name: "part\(partition.number)", partition: partition, device: device))
        }
        return volumes
    }

    private static func slice(_ disk: any BlockDevice, offset: UInt64, size: UInt64) throws(PartitionTableError) -> DeviceSlice {
        do {
            return try DeviceSlice(disk, offset: offset, size: size)
        } catch {
            throw .outsideDisk(offset: offset, size: size, diskSize: disk.size)
        }
    }
}

/// A partition, or a whole unpartitioned disk, under the name it has in the tree.
public struct DiskVolume: Sendable {
    /// "part<N>" or "volume".
    public let name: String
    /// nil for an unpartitioned disk.
    public let partition: Partition?
    public let device: DeviceSlice
}
