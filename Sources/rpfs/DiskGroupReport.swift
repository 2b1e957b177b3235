import LDM
import PointNamespace

/// The JSON shape of a Windows dynamic disk group in `rpfs inspect --json` (rpfs(1), JSON OUTPUT).
struct DiskGroupReport: Encodable {
    struct Disk: Encodable {
        let name: String
        let guid: String
        /// Where the disk is in the point; null when the point does not hold it.
        let path: String?
    }

    /// One partition of a volume: sectors of 512 bytes, as LDM and ldmtool count them.
    struct Extent: Encodable {
        let name: String
        let disk: String?
        /// From the disk's data area (its logical disk start).
        let start: UInt64
        let size: UInt64
        let volumeOffset: UInt64
        /// The column of a striped or RAID-5 volume.
        let column: UInt32
        /// The mirror copy it belongs to (0 but in mirrored volumes).
        let plex: Int
    }

    struct Volume: Encodable {
        let name: String
        let guid: String
        /// simple, spanned, striped, mirrored or RAID5 (as ldmtool says); null for a layout
        /// Windows does not make.
        let type: String?
        /// In bytes.
        let size: UInt64
        let chunkSize: UInt64
        let driveHint: String?
        let extents: [Extent]
        /// Why it cannot be read (a disk missing, a damaged database); null otherwise.
        let problem: String?
        /// What it holds, as for a partition.
        let volume: LayoutReport.VolumeEntry
    }

    let name: String
    let guid: String
    let sequence: UInt64
    let disks: [Disk]
    let volumes: [Volume]
    /// Copies of the LDM structures that were damaged or older than the one used.
    let notes: [String]

    init(_ entry: PointInventory.DynamicGroup, in inventory: PointInventory) {
        let group = entry.group
        name = group.name
        guid = group.guid
        sequence = group.sequence
        disks = group.members.map { Disk(name: $0.record.name, guid: $0.record.guid, path: $0.location) }
        volumes = zip(group.volumes, entry.volumes).map { volume, probed in
            Volume(name: volume.name, guid: volume.guid, type: volume.layout?.rawValue, size: volume.size, chunkSize: volume.chunkSize,
                   driveHint: volume.record.driveHint,
                   extents: volume.extents.map { extent in
                       Extent(name: extent.partition.name, disk: extent.disk?.name, start: extent.partition.start, size: extent.partition.size,
                              volumeOffset: extent.partition.volumeOffset, column: extent.partition.index, plex: extent.plex)
                   },
                   problem: volume.problem.map { "\($0)" }, volume: LayoutReport.VolumeEntry(probed, in: inventory))
        }
        notes = group.notes
    }
}
