/// What a volume holds, as far as its signature tells.
public enum VolumeKind: String, Sendable, CaseIterable {
    case ext2, ext3, ext4, ntfs
    case bitlocker, bitlockerToGo, luks1, luks2
    case swap, lvm2, ldm, fat12, fat16, fat32, xfs, btrfs
    /// Windows: ReFS (by its boot sector) and a Storage Spaces pool member (by its GPT type).
    case refs, storageSpaces
    case unknown

    public var displayName: String {
        switch self {
        case .ext2: "ext2"
        case .ext3: "ext3"
        case .ext4: "ext4"
        case .ntfs: "NTFS"
        case .bitlocker: "BitLocker"
        case .bitlockerToGo: "BitLocker To Go"
        case .luks1: "LUKS1"
        case .luks2: "LUKS2"
        case .swap: "Linux swap"
        case .lvm2: "LVM2 physical volume"
        case .ldm: "Windows dynamic disk (LDM)"
        case .fat12: "FAT12"
        case .fat16: "FAT16"
        case .fat32: "FAT32"
        case .xfs: "XFS"
        case .btrfs: "Btrfs"
        case .refs: "ReFS"
        case .storageSpaces: "Storage Spaces pool member"
        case .unknown: "unknown"
        }
    }

    /// Encrypted by the guest itself: only ciphertext, no file-level restore without its key.
    public var isGuestEncryption: Bool {
        switch self {
        case .bitlocker, .bitlockerToGo, .luks1, .luks2: true
        default: false
        }
    }

    /// Why rpfs shows no files of a known kind it cannot read, and what to do instead where
    /// there is something to do.
    public var unsupportedReason: String {
        switch self {
        case .refs:
            "ReFS volumes are not readable by rpfs: restore the whole disk and attach it to a Windows Server "
                + "(or Windows with ReFS support) to copy files from it"
        case .storageSpaces:
            "a Storage Spaces pool member holds slabs of virtual disks spread over the pool's disks, not a volume: "
                + "restore every disk of the pool and attach them to one Windows machine, where the pool's virtual disks "
                + "appear, and copy files from those"
        default:
            "\(displayName) volumes are not readable by rpfs yet"
        }
    }

    /// rpfs can show the files. Every other known kind is listed as not (yet) readable
    /// rather than hidden, so a user sees what the disk holds.
    public var isReadable: Bool {
        switch self {
        case .ext2, .ext3, .ext4, .ntfs, .xfs: true
        default: false
        }
    }
}
