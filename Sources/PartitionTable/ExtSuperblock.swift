import ByteParsing

/// The ext2/3/4 superblock at byte 1024. Which of the three it is comes from the feature
/// flags, as blkid decides: features ext3 lacks make ext4, otherwise a journal makes ext3.
enum ExtSuperblock {
    static let offset = 1024
    static let magic: UInt16 = 0xEF53

    static let hasJournal: UInt32 = 0x4 // compat
    static let journalDevice: UInt32 = 0x8 // incompat
    /// filetype, recover, meta_bg: the incompatible features ext3 knows.
    static let ext3Incompat: UInt32 = 0x2 | 0x4 | 0x10
    /// sparse_super, large_file, btree_dir: the read-only-compatible features ext3 knows.
    static let ext3ReadOnlyCompat: UInt32 = 0x1 | 0x2 | 0x4

    static func identify(_ head: ByteReader) -> VolumeInfo? {
        try? parse(head)
    }

    private static func parse(_ head: ByteReader) throws(ByteParsingError) -> VolumeInfo? {
        let foundMagic: UInt16 = try head.integer(at: offset + 56, "ext magic")
        let logBlockSize: UInt32 = try head.integer(at: offset + 24, "log block size")
        // Blocks are 1 KiB << logBlockSize, at most 64 KiB.
        guard foundMagic == magic, logBlockSize <= 6 else { return nil }
        let revision: UInt32 = try head.integer(at: offset + 76, "revision level")
        // Revision 0 has no feature fields.
        let compat: UInt32 = revision == 0 ? 0 : try head.integer(at: offset + 92, "compatible features")
        let incompat: UInt32 = revision == 0 ? 0 : try head.integer(at: offset + 96, "incompatible features")
        let readOnlyCompat: UInt32 = revision == 0 ? 0 : try head.integer(at: offset + 100, "read-only features")
        if incompat & journalDevice != 0 {
            return VolumeInfo(kind: .unknown, detail: "external ext3/ext4 journal device")
        }
        let kind: VolumeKind =
            if incompat & ~ext3Incompat != 0 || readOnlyCompat & ~ext3ReadOnlyCompat != 0 { .ext4 }
            else if compat & hasJournal != 0 { .ext3 }
            else { .ext2 }
        let uuid = try head.bytes(at: offset + 104, count: 16, "filesystem UUID")
        return VolumeInfo(
            kind: kind,
            label: try head.text(at: offset + 120, count: 16, "volume name"),
            uuid: uuid.allSatisfy { $0 == 0 } ? nil : IdentifierText.uuid(uuid))
    }
}
