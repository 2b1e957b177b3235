import BlockDevices
import LDM
import PartitionTable
import RecoveryPoint

/// The Windows dynamic disks of a point: which disks carry an LDM private region, the names
/// their volumes have under /ldm, and what a dynamic disk's partitions are for.
extension PointInventory {
    /// A disk group and its volumes as `volumes` holds them: "/ldm/<name>".
    public struct DynamicGroup: Sendable {
        public let group: DiskGroup
        /// In the group's order, one per dynamic volume.
        public let volumes: [Volume]
    }

    /// The directory that holds every disk group's volumes.
    public static let dynamicVolumesDirectory = "ldm"

    /// A disk is dynamic when its MBR has a 0x42 partition (the PRIVHEAD is in sector 6,
    /// copies in the private region at the disk's end) or its GPT an LDM metadata partition
    /// (the PRIVHEAD is in its last sector). Only 512-byte sectors, as LDM addresses them.
    static func dynamicDiskCandidate(_ disk: Disk, device: any BlockDevice) -> DiskGroupAssembly.Candidate? {
        guard case let .success(table) = disk.table, table.sectorSize == Int(PrivateHeader.sectorSize) else { return nil }
        let sector = PrivateHeader.sectorSize
        switch table.scheme {
        case .mbr where table.partitions.contains(where: { $0.type == .mbr(PartitionType.dynamicDiskType) }):
            let last = device.size / sector
            return DiskGroupAssembly.Candidate(location: "/\(disk.layout.name)", device: device,
                                               headerOffsets: [6 * sector] + (last > 0 ? [(last - 1) * sector] : []))
        case .gpt:
            guard let metadata = table.partitions.first(where: { $0.type == .gpt(PartitionType.ldmMetadataGUID) }), metadata.size >= sector else { return nil }
            return DiskGroupAssembly.Candidate(location: "/\(disk.layout.name)", device: device, headerOffsets: [metadata.end - sector])
        default:
            return nil
        }
    }

    /// Each group with its volumes probed, named as docs/LDM.md (*Naming*) says: the name
    /// Windows shows, with '/', NUL and control characters made '_'; an empty name, "." or
    /// ".." becomes "volume"; a name already taken gets "-" and the first 8 digits of the
    /// volume's GUID.
    static func diskGroups(_ found: [DiskGroup]) -> [DynamicGroup] {
        var taken = Set<String>()
        return found.map { group in
            let volumes = group.volumes.map { volume in
                var name = String(volume.name.map { $0 == "/" || $0.isASCII && $0.asciiValue.map { $0 < 0x20 || $0 == 0x7F } == true ? "_" : $0 })
                if name.isEmpty || name == "." || name == ".." { name = "volume" }
                if !taken.insert(name).inserted {
                    name = "\(name)-\(volume.guid.prefix(8))"
                    taken.insert(name)
                }
                let (info, unreadable) = VolumeProbe.identify(volume.device)
                return Volume(path: "/\(dynamicVolumesDirectory)/\(name)", name: name, partition: nil, info: info,
                              device: volume.device, unreadable: unreadable)
            }
            return DynamicGroup(group: group, volumes: volumes)
        }
    }

    /// What a dynamic disk's partition `volume` is for, for its listing and `inspect`.
    public func dynamicDiskRole(_ volume: Volume) -> String {
        let location = "/" + (volume.path.split(separator: "/").first.map(String.init) ?? "")
        guard let outcome = dynamicDisks.first(where: { $0.location == location }) else { return "Windows dynamic disk partition" }
        if let problem = outcome.problem { return "Windows dynamic disk whose LDM database cannot be used: \(problem)" }
        guard let entry = diskGroups.first(where: { $0.group.members.contains { $0.location == location } }) else {
            return "Windows dynamic disk in no disk group"
        }
        if volume.partition?.type == .gpt(PartitionType.ldmMetadataGUID) {
            return "Windows LDM metadata of disk group \(entry.group.name)"
        }
        let guid = entry.group.members.first { $0.location == location }?.record.guid
        let used = zip(entry.group.volumes, entry.volumes).filter { dynamic, _ in dynamic.extents.contains { $0.disk?.guid == guid } }.map(\.1.path)
        let holds = used.isEmpty ? "no dynamic volume" : "pieces of the dynamic volumes \(used.joined(separator: ", "))"
        return "Windows dynamic disk of disk group \(entry.group.name): it holds \(holds)"
    }
}
