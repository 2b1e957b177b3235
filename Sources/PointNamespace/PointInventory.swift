import BlockDevices
import PartitionTable
import PointDisk
import RecoveryPoint

/// What a point holds, disk by disk: its partition table and what each volume is. Built by
/// reading a few sectors per volume; `inspect` shows it and the file commands decide from it
/// what they may open.
public struct PointInventory: Sendable {
    public struct Disk: Sendable {
        public let layout: DiskLayout
        /// The table, or why it could not be read (then the disk has no volumes).
        public let table: Result<PartitionedDisk, PartitionTableError>
        public let volumes: [Volume]
    }

    public struct Volume: Sendable {
        /// "/disk0/part2", the same in every command and under a mount.
        public let path: String
        /// "part2" or "volume".
        public let name: String
        public let partition: Partition?
        public let info: VolumeInfo
        public let device: DeviceSlice
        /// Why the volume's first bytes could not be read (a damaged or missing chunk, a store
        /// that does not answer), when they could not.
        public let unreadable: DiskReadError?

        public var isGuestEncrypted: Bool { info.kind.isGuestEncryption }
    }

    public let header: PointHeader
    public let disks: [Disk]
    /// The chunk cache the volumes' devices share.
    private let cache: ChunkCache

    /// Reads the partition tables and probes every volume of the point's disks. Read-ahead
    /// stays off (tables and probes read a few scattered sectors) until `startReadAhead()`.
    public static func survey(_ point: OpenedPoint, cacheSize: Int = RecoveryPointDisk.defaultCacheSize) -> PointInventory {
        let cache = ChunkCache(policy: ReadPolicy.forStore(remote: point.isRemote, cacheBytes: cacheSize), readAhead: false)
        let disks = RecoveryPointDisk.disks(of: point, cache: cache).map { disk -> Disk in
            let table = Result { () throws(PartitionTableError) in try PartitionTable.read(disk) }
            let volumes = (try? table.get().volumes(on: disk)) ?? []
            return Disk(layout: disk.layout, table: table, volumes: volumes.map { volume in
                let (info, unreadable) = VolumeProbe.identify(volume.device, type: volume.partition?.type)
                return Volume(path: "/\(disk.layout.name)/\(volume.name)", name: volume.name, partition: volume.partition,
                              info: info, device: volume.device, unreadable: unreadable)
            })
        }
        return PointInventory(header: point.header, disks: disks, cache: cache)
    }

    /// Lets sequential reads of the volumes' devices load chunks ahead: for reading files,
    /// once the volumes are open.
    public func startReadAhead() {
        cache.startReadAhead()
    }

    public var volumes: [Volume] { disks.flatMap(\.volumes) }
}
