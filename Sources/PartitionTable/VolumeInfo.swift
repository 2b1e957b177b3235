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

    public init(kind: VolumeKind, label: String? = nil, uuid: String? = nil, detail: String? = nil) {
        self.kind = kind
        self.label = label
        self.uuid = uuid
        self.detail = detail
    }
}
