/// What `VolumeProbe` learned from a volume's own bytes.
public struct VolumeInfo: Sendable, Hashable {
    public let kind: VolumeKind
    public let label: String?
    /// As blkid shows it: a UUID for ext, XFS, Btrfs, swap and LUKS, the serial number for
    /// NTFS ("1A2B3C4D5E6F7081") and FAT ("1A2B-3C4D"), the PV UUID for LVM2.
    public let uuid: String?
    /// Anything a user should know that the kind does not say: why it is unknown, or that a
    /// header was found only through its backup copy.
    public let detail: String?
    /// Set when the volume's primary header could not be read and a backup copy the format
    /// keeps identified it: the reader must open the volume from that copy.
    public let backup: BackupHeader?

    public init(kind: VolumeKind, label: String? = nil, uuid: String? = nil, detail: String? = nil, backup: BackupHeader? = nil) {
        self.kind = kind
        self.label = label
        self.uuid = uuid
        self.detail = detail
        self.backup = backup
    }

    /// The same volume, found through its backup header because reading the primary one failed.
    func foundThroughBackup(_ backup: BackupHeader, primaryFailure: String) -> VolumeInfo {
        VolumeInfo(kind: kind, label: label, uuid: uuid,
                   detail: "the primary \(backup.structure) cannot be read (\(primaryFailure)): using the backup at byte \(backup.offset)",
                   backup: backup)
    }
}

/// A filesystem header's backup copy: ext's superblock of block group 1, NTFS's boot sector
/// in the volume's last sector.
public struct BackupHeader: Sendable, Hashable {
    /// "superblock", "boot sector": what is copied.
    public let structure: String
    /// Where the copy lies, in bytes from the volume's start.
    public let offset: UInt64
    /// The unit the reader addresses it in: ext's block size, NTFS's sector size.
    public let unit: UInt32

    public init(structure: String, offset: UInt64, unit: UInt32) {
        self.structure = structure
        self.offset = offset
        self.unit = unit
    }
}
