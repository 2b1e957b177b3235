import BlockDevices
import LDM
import LVM
import PartitionTable
import PointDisk
import RecoveryPoint

/// What a point holds, disk by disk: its partition table and what each volume is, then the
/// LVM2 volume groups whose PVs are on those disks and the Windows disk groups of its dynamic
/// disks, and what each of their volumes is. Built by reading a few sectors per volume, the
/// LVM metadata and the LDM databases; `inspect` shows it and the file commands decide from
/// it what they may open.
public struct PointInventory: Sendable {
    public struct Disk: Sendable {
        public let layout: DiskLayout
        /// The disk's bytes: the point's decrypted disk, or the image it was made from.
        public let device: any BlockDevice
        /// The table, or why it could not be read (then the disk has no volumes).
        public let table: Result<PartitionedDisk, PartitionTableError>
        public let volumes: [Volume]
    }

    public struct Volume: Sendable {
        /// "/disk0/part2", "/lvm/vg0/root" or "/ldm/Volume1", the same in every command and
        /// under a mount.
        public let path: String
        /// "part2", "volume", the LV's name, or the dynamic volume's name in the tree.
        public let name: String
        public let partition: Partition?
        public let info: VolumeInfo
        /// A partition's or an unpartitioned disk's `DeviceSlice`, or a logical or dynamic volume's device.
        public let device: any BlockDevice
        /// Why the volume's first bytes could not be read (a damaged or missing chunk, a store
        /// that does not answer), when they could not.
        public let unreadable: DiskReadError?

        public var isGuestEncrypted: Bool { info.kind.isGuestEncryption }
    }

    /// A volume group and the directory it has under /lvm: its name, or when another VG of
    /// the point has the same name, the name, "-" and the first 6 characters of its UUID for
    /// every VG after the first in disk order.
    public struct Group: Sendable {
        public let group: VolumeGroup
        public let directory: String
        /// Its logical volumes, as `volumes` holds them: "/lvm/<directory>/<lv>".
        public let volumes: [Volume]

        public var path: String { "/lvm/\(directory)" }
    }

    public let header: PointHeader
    public let disks: [Disk]
    public let groups: [Group]
    /// What was found on each LVM2 physical volume of the disks.
    public let physicalVolumes: [VolumeGroupAssembly.PhysicalVolume]
    public let diskGroups: [DynamicGroup]
    /// What was found on each dynamic disk of the point.
    public let dynamicDisks: [DiskGroupAssembly.Outcome]
    /// The chunk cache the volumes' devices share (none when the disks are the images).
    private let cache: ChunkCache?

    /// Reads the partition tables and probes every volume of the point's disks. Read-ahead
    /// stays off (tables and probes read a few scattered sectors) until `startReadAhead()`.
    public static func survey(_ point: OpenedPoint, cacheSize: Int = RecoveryPointDisk.defaultCacheSize) -> PointInventory {
        let cache = ChunkCache(policy: ReadPolicy.forStore(remote: point.isRemote, cacheBytes: cacheSize), readAhead: false)
        let disks = RecoveryPointDisk.disks(of: point, cache: cache).map { ($0.layout, $0 as any BlockDevice) }
        return survey(point.header, disks: disks, cache: cache)
    }

    /// The same survey over the plaintext images the point was just made from (one per disk,
    /// in order): `create` catalogs a point without decrypting what it has just encrypted.
    public static func survey(_ point: OpenedPoint, images: [any BlockDevice]) -> PointInventory {
        survey(point.header, disks: Array(zip(point.header.disks, images)), cache: nil)
    }

    private static func survey(_ header: PointHeader, disks: [(DiskLayout, any BlockDevice)], cache: ChunkCache?) -> PointInventory {
        let surveyed = disks.map { layout, disk -> Disk in
            let table = Result { () throws(PartitionTableError) in try PartitionTable.read(disk) }
            let volumes = (try? table.get().volumes(on: disk)) ?? []
            return Disk(layout: layout, device: disk, table: table, volumes: volumes.map { volume in
                let path = "/\(layout.name)/\(volume.name)"
                // A dynamic disk's partitions hold pieces of its volumes: what they start with says nothing.
                if volume.partition?.type.isDynamicDisk == true {
                    return Volume(path: path, name: volume.name, partition: volume.partition, info: VolumeInfo(kind: .ldm),
                                  device: volume.device, unreadable: nil)
                }
                let (info, unreadable) = VolumeProbe.identify(volume.device, type: volume.partition?.type)
                return Volume(path: path, name: volume.name, partition: volume.partition,
                              info: info, device: volume.device, unreadable: unreadable)
            })
        }
        let candidates = surveyed.flatMap(\.volumes).filter { $0.info.kind == .lvm2 && $0.unreadable == nil }
            .map { VolumeGroupAssembly.Candidate(location: $0.path, device: $0.device) }
        let assembly = VolumeGroupAssembly.assemble(candidates)
        let dynamic = DiskGroupAssembly.assemble(surveyed.compactMap { dynamicDiskCandidate($0, device: $0.device) })
        return PointInventory(header: header, disks: surveyed, groups: groups(assembly.volumeGroups),
                              physicalVolumes: assembly.physicalVolumes, diskGroups: diskGroups(dynamic.groups),
                              dynamicDisks: dynamic.disks, cache: cache)
    }

    /// Each VG with its directory name and its LVs probed as volumes.
    private static func groups(_ found: [VolumeGroup]) -> [Group] {
        var taken = Set<String>()
        return found.map { group in
            var directory = group.name
            if !taken.insert(directory).inserted {
                directory = "\(group.name)-\(group.uuid.prefix(6))"
                taken.insert(directory)
            }
            let volumes = group.logicalVolumes.map { volume in
                let (info, unreadable) = VolumeProbe.identify(volume.device)
                return Volume(path: "/lvm/\(directory)/\(volume.name)", name: volume.name, partition: nil, info: info,
                              device: volume.device, unreadable: unreadable)
            }
            return Group(group: group, directory: directory, volumes: volumes)
        }
    }

    /// What an LVM2 physical volume at `path` belongs to, for its listing and `inspect`.
    public func physicalVolumeRole(_ path: String) -> String {
        guard let pv = physicalVolumes.first(where: { $0.location == path }) else { return "LVM2 physical volume" }
        guard let uuid = pv.volumeGroup, let group = groups.first(where: { $0.group.uuid == uuid }) else {
            if let problem = pv.problem { return "LVM2 physical volume that cannot be used: \(problem)" }
            return "LVM2 physical volume \(pv.uuid ?? "") in no volume group"
        }
        return "LVM2 physical volume of volume group \(group.group.name): its logical volumes are under \(group.path)"
    }

    /// Lets sequential reads of the volumes' devices load chunks ahead: for reading files,
    /// once the volumes are open.
    public func startReadAhead() {
        cache?.startReadAhead()
    }

    /// Lets the read-ahead loads in flight finish, at most `seconds`: see `ChunkCache.finishLoads`.
    public func finishReads(within seconds: Double) {
        cache?.finishLoads(within: seconds)
    }

    /// The disks' volumes, then the logical volumes, group by group, then the dynamic volumes.
    public var volumes: [Volume] { disks.flatMap(\.volumes) + groups.flatMap(\.volumes) + diskGroups.flatMap(\.volumes) }
}
