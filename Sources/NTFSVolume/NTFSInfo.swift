/// What `rpfs inspect` shows about an NTFS volume.
public struct NTFSInfo: Sendable, Equatable {
    /// From $Volume's $VOLUME_NAME; empty when unset.
    public let label: String
    public let serialNumber: UInt64
    public let bytesPerSector: UInt32
    public let clusterSize: UInt32
    public let clusterCount: UInt64
    public let mftRecordSize: UInt32
    public let indexRecordSize: UInt32
    /// NTFS version from $VOLUME_INFORMATION, e.g. 3.1.
    public let majorVersion: UInt8
    public let minorVersion: UInt8
    /// The volume was not cleanly unmounted (Windows would run chkdsk).
    public let isDirty: Bool

    public var version: String { "\(majorVersion).\(minorVersion)" }
}
