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
        try? parse(head, at: offset)
    }

    /// Where mke2fs puts the backup superblock of block group 1, for each block size, with
    /// its default of 8 × block size blocks per group (group 0 starts at block 1 for 1 KiB
    /// blocks, at block 0 otherwise).
    static let backupCandidates: [BackupHeader] = (10 ... 16).map { shift in
        let blockSize = UInt64(1) << shift
        let block = blockSize * 8 + (shift == 10 ? 1 : 0)
        return BackupHeader(structure: "ext superblock", offset: block * blockSize, unit: UInt32(blockSize))
    }

    /// The volume from the backup superblock `copy` (1024 bytes read at `candidate.offset`):
    /// only a copy that says it belongs to group 1 at exactly that place, in that block size.
    static func identifyBackup(_ copy: ByteReader, candidate: BackupHeader) -> VolumeInfo? {
        guard let info = try? parse(copy, at: 0),
              let logBlockSize: UInt32 = try? copy.integer(at: 24, "log block size"),
              let firstDataBlock: UInt32 = try? copy.integer(at: 20, "first data block"),
              let blocksPerGroup: UInt32 = try? copy.integer(at: 32, "blocks per group"),
              let group: UInt16 = try? copy.integer(at: 90, "block group number"),
              group == 1, UInt64(1024) << logBlockSize == UInt64(candidate.unit),
              (UInt64(blocksPerGroup) + UInt64(firstDataBlock)) * UInt64(candidate.unit) == candidate.offset
        else { return nil }
        return info
    }

    private static func parse(_ head: ByteReader, at offset: Int) throws(ByteParsingError) -> VolumeInfo? {
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
