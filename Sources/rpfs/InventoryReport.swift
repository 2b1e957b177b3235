import BlockDevices
import ByteParsing
import PartitionTable
import PointNamespace

/// The JSON shape of a disk's layout in `rpfs inspect --json` (documented in rpfs(1), JSON OUTPUT).
struct LayoutReport: Encodable {
    struct Table: Encodable {
        /// "gpt", "mbr" or "none".
        let scheme: String
        let sectorSize: Int
        /// GPT only: "primary", or "backup" when the primary header or entries are damaged.
        let header: String?
        let identifier: String?
        let anomalies: [String]
    }

    struct PartitionEntry: Encodable {
        let number: Int
        let start: UInt64
        let size: UInt64
        /// The MBR type byte as "0x83" or the GPT type GUID.
        let type: String
        let typeName: String?
        let name: String?
        let attributes: String?
        let uniqueGuid: String?
        let bootable: Bool
    }

    struct VolumeEntry: Encodable {
        let path: String
        let partition: PartitionEntry?
        let size: UInt64
        /// ext2, ext3, ext4, ntfs, bitlocker, bitlockerToGo, luks1, luks2, swap, lvm2, fat12,
        /// fat16, fat32, xfs, btrfs, unknown.
        let kind: String
        let kindName: String
        let label: String?
        let uuid: String?
        let detail: String?
        /// "readable", "refused" (guest-encrypted), "unreadable" (its first bytes could not be
        /// read: damage, or a logical or dynamic volume that cannot be assembled),
        /// "physical-volume" (LVM2: the reason says of which group), "dynamic-disk" (a Windows
        /// dynamic disk's partition: the reason says which dynamic volumes it holds) or
        /// "unsupported".
        let state: String
        let reason: String?
    }

    let partitionTable: Table?
    /// Why the partition table could not be read; then there are no volumes.
    let partitionTableError: String?
    let volumes: [VolumeEntry]

    init(_ disk: PointInventory.Disk, in inventory: PointInventory) {
        switch disk.table {
        case let .success(table):
            partitionTable = Table(table)
            partitionTableError = nil
        case let .failure(error):
            partitionTable = nil
            partitionTableError = "\(error)"
        }
        volumes = disk.volumes.map { LayoutReport.VolumeEntry($0, in: inventory) }
    }
}

extension LayoutReport.Table {
    init(_ table: PartitionedDisk) {
        switch table.scheme {
        case .mbr:
            scheme = "mbr"
            header = nil
        case let .gpt(source):
            scheme = "gpt"
            if case .backup = source { header = "backup" } else { header = "primary" }
        case .none:
            scheme = "none"
            header = nil
        }
        sectorSize = table.sectorSize
        identifier = table.identifier
        anomalies = table.anomalies
    }
}

extension LayoutReport.VolumeEntry {
    init(_ volume: PointInventory.Volume, in inventory: PointInventory) {
        path = volume.path
        partition = volume.partition.map { partition in
            let type: String = switch partition.type {
            case let .mbr(byte): "0x\(Hex.encode([byte]))"
            case let .gpt(guid): guid
            }
            let attributes = partition.attributes.map(\.description)
            return LayoutReport.PartitionEntry(number: partition.number, start: partition.start, size: partition.size, type: type,
                                               typeName: partition.type.readableName, name: partition.name,
                                               attributes: attributes?.isEmpty == false ? attributes : nil,
                                               uniqueGuid: partition.uniqueGUID, bootable: partition.bootable)
        }
        size = volume.device.size
        kind = volume.info.kind.rawValue
        kindName = volume.info.kind.displayName
        label = volume.info.label
        uuid = volume.info.uuid
        detail = volume.info.detail
        if let unreadable = volume.unreadable {
            state = "unreadable"
            reason = "\(unreadable)"
        } else if volume.info.kind == .lvm2 {
            state = "physical-volume"
            reason = inventory.physicalVolumeRole(volume.path)
        } else if volume.info.kind == .ldm {
            state = "dynamic-disk"
            reason = inventory.dynamicDiskRole(volume)
        } else if volume.info.kind.isGuestEncryption {
            state = "refused"
            reason = "encrypted inside the guest (\(volume.info.kind.displayName)): the backup holds only its ciphertext"
        } else if volume.info.kind.isReadable {
            state = "readable"
            reason = nil
        } else {
            state = "unsupported"
            reason = volume.info.kind == .unknown ? "contents not recognised" : volume.info.kind.unsupportedReason
        }
    }
}
