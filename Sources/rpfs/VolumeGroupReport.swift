import LVM
import PointNamespace

/// The JSON shape of an LVM2 volume group in `rpfs inspect --json` (rpfs(1), JSON OUTPUT).
struct VolumeGroupReport: Encodable {
    struct PhysicalVolume: Encodable {
        let uuid: String
        /// Where the PV is in the point; null when the point does not hold it.
        let path: String?
        let extents: UInt64
    }

    struct Segment: Encodable {
        let startExtent: UInt64
        let extents: UInt64
        /// As `lvs --segments` shows it: linear, striped, mirror, raid1, thin, ...
        let type: String
        let stripeSize: UInt64
        /// "PV-UUID:extent" for extents of a PV, "lv:extent" for a sub-LV (a leg, an image).
        let areas: [String]
    }

    struct LogicalVolume: Encodable {
        let name: String
        let uuid: String
        let type: String
        let size: UInt64
        let segments: [Segment]
        /// Why it cannot be read (a PV missing, a type rpfs does not read); null otherwise.
        let problem: String?
        /// What it holds, as for a partition.
        let volume: LayoutReport.VolumeEntry
    }

    let name: String
    let uuid: String
    /// Where its logical volumes are: "/lvm/<name>", or with a UUID suffix for a second VG of
    /// the same name.
    let path: String
    let seqno: UInt64
    let extentSize: UInt64
    let physicalVolumes: [PhysicalVolume]
    let logicalVolumes: [LogicalVolume]
    /// Metadata copies that were damaged or older than the one used.
    let notes: [String]

    init(_ entry: PointInventory.Group, in inventory: PointInventory) {
        let group = entry.group
        name = group.name
        uuid = group.uuid
        path = entry.path
        seqno = group.metadata.seqno
        extentSize = group.metadata.extentSize
        physicalVolumes = group.members.map { PhysicalVolume(uuid: $0.uuid, path: $0.location, extents: $0.extentCount) }
        let uuids = Dictionary(group.metadata.physicalVolumes.map { ($0.key, $0.uuid) }) { first, _ in first }
        logicalVolumes = zip(group.logicalVolumes, entry.volumes).map { volume, probed in
            LogicalVolume(name: volume.name, uuid: volume.uuid, type: volume.type, size: volume.size,
                          segments: volume.metadata.segments.map { segment in
                              Segment(startExtent: segment.startExtent, extents: segment.extentCount, type: segment.reportedType,
                                      stripeSize: segment.stripeSize, areas: segment.areas.map { area in
                                          switch area {
                                          case let .physical(key, extent): "\(uuids[key] ?? key):\(extent)"
                                          case let .logical(name, extent): "\(name):\(extent)"
                                          }
                                      })
                          },
                          problem: volume.problem.map { "\($0)" }, volume: LayoutReport.VolumeEntry(probed, in: inventory))
        }
        notes = group.notes
    }
}
