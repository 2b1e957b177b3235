import BlockDevices

/// A volume group as the point holds it: the newest valid metadata copy found on its PVs,
/// which of its PVs are present, and its logical volumes.
public struct VolumeGroup: Sendable {
    public struct Member: Sendable {
        public let uuid: String
        /// Where the PV is in the point ("/disk1/volume"); nil when it is not in the point.
        public let location: String?
        public let extentCount: UInt64
    }

    public let metadata: VolumeGroupMetadata
    public let members: [Member]
    /// Every logical volume `lvs` shows (visible ones, and old-style snapshots), in metadata order.
    public let logicalVolumes: [LogicalVolume]
    /// What a user should know: metadata copies that were damaged or older than the one used.
    public let notes: [String]

    public var name: String { metadata.name }
    public var uuid: String { metadata.uuid }
    /// UUIDs of the PVs the metadata lists that the point does not hold.
    public var missing: [String] { members.filter { $0.location == nil }.map(\.uuid) }
}

/// A logical volume and the device that reads it, or why it cannot be read.
public struct LogicalVolume: Sendable {
    public let metadata: VolumeGroupMetadata.LogicalVolume
    /// "linear", "striped", "raid1", ... as `lvs -o segtype` says (one type when the
    /// segments share it, else each segment's, joined by "+"); "snapshot" for an old-style
    /// snapshot.
    public let type: String
    /// Bytes; a snapshot's is its origin's (what it reads as), not its exception store's.
    public let size: UInt64
    /// Reads the LV. When `problem` is set, every read fails with it (as
    /// `DiskReadError.source` carrying a `LogicalVolumeFault`).
    public let device: any BlockDevice
    public let problem: LVMError?

    public var name: String { metadata.name }
    public var uuid: String { metadata.uuid }
}
