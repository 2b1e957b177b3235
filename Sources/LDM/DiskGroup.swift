import BlockDevices

/// A disk group as the point holds it: the newest database found on its disks, which of its
/// disks are present, and its volumes.
public struct DiskGroup: Sendable {
    public struct Member: Sendable {
        public let record: Record.Disk
        /// Where the disk is in the point ("/disk1"); nil when it is not in the point.
        public let location: String?
    }

    public let guid: String
    public let name: String
    /// The committed sequence of the database used.
    public let sequence: UInt64
    public let members: [Member]
    /// Every volume, in database order.
    public let volumes: [DynamicVolume]
    /// What a user should know: copies that were damaged or older than the one used.
    public let notes: [String]

    /// The members the point does not hold.
    public var missing: [Record.Disk] { members.filter { $0.location == nil }.map(\.record) }
}

/// A dynamic volume and the device that reads it, or why it cannot be read.
public struct DynamicVolume: Sendable {
    public enum Layout: String, Sendable {
        // As ldmtool names them.
        case simple, spanned, striped, mirrored, raid5 = "RAID5"
    }

    /// One partition of the volume: where it is and which plex (mirror copy) it belongs to.
    public struct Extent: Sendable {
        public let partition: Record.Partition
        public let disk: Record.Disk?
        /// 0 except in a mirrored volume's second and later plexes.
        public let plex: Int
    }

    public let record: Record.Volume
    public let layout: Layout?
    /// In bytes.
    public let size: UInt64
    /// Stripe size in bytes of a striped or RAID-5 volume; 0 otherwise.
    public let chunkSize: UInt64
    public let extents: [Extent]
    /// Reads the volume. When `problem` is set, every read fails with it (as
    /// `DiskReadError.source` carrying a `DynamicVolumeFault`).
    public let device: any BlockDevice
    public let problem: LDMError?

    public var name: String { record.name }
    public var guid: String { record.guid }
}
