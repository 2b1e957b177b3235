/// What the reparse tags rpfs cannot read mean, for the error that names them: a file with
/// such a tag keeps its data somewhere else, and its own $DATA is a stub (sparse or empty).
enum ReparseTags {
    static let dedup: UInt32 = 0x8000_0013
    /// Cloud files placeholders: 0x9000001A with a provider-specific nibble in bits 12-15.
    static let cloudFamilyMask: UInt32 = 0xFFFF_0FFF
    static let cloud: UInt32 = 0x9000_001A

    static func describe(_ tag: UInt32) -> String {
        let hex = "0x" + String(tag, radix: 16, uppercase: true)
        if tag & cloudFamilyMask == cloud {
            return "reparse tag \(hex) (IO_REPARSE_TAG_CLOUD: a cloud files placeholder, such as OneDrive's, not all of whose data "
                + "is on this disk; the rest is with the sync provider)"
        }
        switch tag {
        case dedup:
            return "reparse tag \(hex) (IO_REPARSE_TAG_DEDUP: Windows Server deduplication; its data is in the chunk store under "
                + "System Volume Information\\Dedup, which rpfs does not read: restore it on a Windows Server with deduplication, "
                + "or copy it out of a running server)"
        case 0xC000_0004, 0x8000_0006: return "reparse tag \(hex) (IO_REPARSE_TAG_HSM: hierarchical storage; its data is on other storage)"
        case 0x8000_0007: return "reparse tag \(hex) (IO_REPARSE_TAG_SIS: single-instance storage; its data is in the SIS common store)"
        case 0x8000_000A: return "reparse tag \(hex) (IO_REPARSE_TAG_DFS)"
        case 0x8000_0012: return "reparse tag \(hex) (IO_REPARSE_TAG_DFSR)"
        case 0x8000_001B: return "reparse tag \(hex) (IO_REPARSE_TAG_APPEXECLINK: an app execution alias)"
        case 0xA000_001D: return "reparse tag \(hex) (IO_REPARSE_TAG_LX_SYMLINK: a WSL symbolic link of a format version rpfs does not know)"
        case 0x8000_0023, 0x8000_0024, 0x8000_0025, 0x8000_0026: return "reparse tag \(hex) (a WSL socket, FIFO or device)"
        default: return "reparse tag \(hex)"
        }
    }
}
