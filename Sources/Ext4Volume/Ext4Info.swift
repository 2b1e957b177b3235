import ByteParsing

/// What `inspect` shows about an ext2/ext3/ext4 volume, from its superblock.
public struct Ext4Info: Sendable, Equatable, Codable {
    public enum Flavour: String, Sendable, Codable {
        case ext2, ext3, ext4
    }

    /// The volume label (`s_volume_name`), up to its first NUL; invalid UTF-8 shows as U+FFFD.
    public let label: String
    /// `s_uuid` as lower-case 8-4-4-4-12 text.
    public let uuid: String
    /// As blkid decides: features ext3 lacks make ext4, otherwise a journal makes ext3.
    public let flavour: Flavour
    public let blockSize: UInt32
    public let blockCount: UInt64
    public let inodeCount: UInt32
    public let inodeSize: UInt16
    /// Feature names as e2fsprogs prints them (compat, then incompat, then read-only compat;
    /// unknown bits as FEATURE_C12, FEATURE_I31, FEATURE_R20).
    public let features: [String]
    /// The journal holds transactions that were never written back (the guest was not shut
    /// down cleanly). The volume is read as it stands: rpfs never replays a journal.
    public let needsRecovery: Bool
    /// The kernel marked the filesystem as having errors (`s_state` error bit).
    public let hasErrors: Bool
    /// Where the guest last mounted it (`s_last_mounted`), empty when never recorded.
    public let lastMountedOn: String
}

/// The superblock fields rpfs reads itself, at their offsets in `struct ext2_super_block`.
struct Superblock {
    static let size = 1024
    /// Where the primary superblock lies on the volume.
    static let offset: UInt64 = 1024

    let inodeCount: UInt32
    let blockCount: UInt64
    let firstDataBlock: UInt32
    let logBlockSize: UInt32
    let state: UInt16
    let revision: UInt32
    let inodeSize: UInt16
    let compat: UInt32
    let incompat: UInt32
    let readOnlyCompat: UInt32
    let uuid: [UInt8]
    let volumeName: [UInt8]
    let lastMounted: [UInt8]

    init(_ bytes: [UInt8]) throws(ByteParsingError) {
        let reader = ByteReader(bytes, origin: 1024)
        inodeCount = try reader.integer(at: 0x00, "s_inodes_count")
        let blocksLow: UInt32 = try reader.integer(at: 0x04, "s_blocks_count_lo")
        firstDataBlock = try reader.integer(at: 0x14, "s_first_data_block")
        logBlockSize = try reader.integer(at: 0x18, "s_log_block_size")
        state = try reader.integer(at: 0x3A, "s_state")
        revision = try reader.integer(at: 0x4C, "s_rev_level")
        let declaredInodeSize: UInt16 = try reader.integer(at: 0x58, "s_inode_size")
        // Revision 0 has fixed 128-byte inodes and no feature fields.
        inodeSize = revision == 0 ? 128 : declaredInodeSize
        compat = revision == 0 ? 0 : try reader.integer(at: 0x5C, "s_feature_compat")
        incompat = revision == 0 ? 0 : try reader.integer(at: 0x60, "s_feature_incompat")
        readOnlyCompat = revision == 0 ? 0 : try reader.integer(at: 0x64, "s_feature_ro_compat")
        var fields = reader
        try fields.seek(to: 0x68)
        uuid = try fields.bytes(16, "s_uuid")
        volumeName = try fields.bytes(16, "s_volume_name")
        lastMounted = try fields.bytes(64, "s_last_mounted")
        let blocksHigh: UInt32 = incompat & Feature.incompat64Bit != 0 ? try reader.integer(at: 0x150, "s_blocks_count_hi") : 0
        blockCount = UInt64(blocksHigh) << 32 | UInt64(blocksLow)
    }

    /// 1 KiB << s_log_block_size; libext2fs refuses anything over 64 KiB before we get here.
    var blockSize: UInt32 { logBlockSize <= 6 ? 1024 << logBlockSize : 0 }

    func has(incompat bit: UInt32) -> Bool { incompat & bit != 0 }
    func has(readOnlyCompat bit: UInt32) -> Bool { readOnlyCompat & bit != 0 }

    var info: Ext4Info {
        Ext4Info(
            label: Self.text(volumeName),
            uuid: Self.uuidText(uuid),
            flavour: flavour,
            blockSize: blockSize,
            blockCount: blockCount,
            inodeCount: inodeCount,
            inodeSize: inodeSize,
            features: Feature.names(compat: compat, incompat: incompat, readOnlyCompat: readOnlyCompat),
            needsRecovery: incompat & Feature.incompatRecover != 0,
            hasErrors: state & 0x0002 != 0,
            lastMountedOn: Self.text(lastMounted))
    }

    var flavour: Ext4Info.Flavour {
        if incompat & ~Feature.ext3Incompat != 0 || readOnlyCompat & ~Feature.ext3ReadOnlyCompat != 0 { return .ext4 }
        return compat & Feature.compatHasJournal != 0 ? .ext3 : .ext2
    }

    private static func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    private static func uuidText(_ bytes: [UInt8]) -> String {
        let hex = Hex.encode(bytes)
        var out = ""
        for (index, character) in hex.enumerated() {
            if [8, 12, 16, 20].contains(index) { out.append("-") }
            out.append(character)
        }
        return out
    }
}

/// Feature bits (ext2_fs.h) and the names e2fsprogs' lib/e2p gives them.
enum Feature {
    static let compatHasJournal: UInt32 = 0x0004
    static let compatExtAttr: UInt32 = 0x0008
    static let incompatFiletype: UInt32 = 0x0002
    static let incompatRecover: UInt32 = 0x0004
    static let incompat64Bit: UInt32 = 0x0080
    static let incompatInlineData: UInt32 = 0x8000
    static let incompatCasefold: UInt32 = 0x20000
    static let readOnlyHugeFile: UInt32 = 0x0008

    /// filetype, needs_recovery, meta_bg: the incompatible features ext3 knows.
    static let ext3Incompat: UInt32 = 0x2 | 0x4 | 0x10
    /// sparse_super, large_file, btree_dir: the read-only-compatible features ext3 knows.
    static let ext3ReadOnlyCompat: UInt32 = 0x1 | 0x2 | 0x4

    static let compatNames: [UInt32: String] = [
        0x0001: "dir_prealloc", 0x0002: "imagic_inodes", 0x0004: "has_journal", 0x0008: "ext_attr",
        0x0010: "resize_inode", 0x0020: "dir_index", 0x0040: "lazy_bg", 0x0100: "snapshot_bitmap",
        0x0200: "sparse_super2", 0x0400: "fast_commit", 0x0800: "stable_inodes", 0x1000: "orphan_file",
    ]
    static let incompatNames: [UInt32: String] = [
        0x0001: "compression", 0x0002: "filetype", 0x0004: "needs_recovery", 0x0008: "journal_dev",
        0x0010: "meta_bg", 0x0040: "extent", 0x0080: "64bit", 0x0100: "mmp", 0x0200: "flex_bg",
        0x0400: "ea_inode", 0x1000: "dirdata", 0x2000: "metadata_csum_seed", 0x4000: "large_dir",
        0x8000: "inline_data", 0x10000: "encrypt", 0x20000: "casefold",
    ]
    static let readOnlyNames: [UInt32: String] = [
        0x0001: "sparse_super", 0x0002: "large_file", 0x0008: "huge_file", 0x0010: "uninit_bg",
        0x0020: "dir_nlink", 0x0040: "extra_isize", 0x0080: "snapshot", 0x0100: "quota",
        0x0200: "bigalloc", 0x0400: "metadata_csum", 0x0800: "replica", 0x1000: "read-only",
        0x2000: "project", 0x4000: "shared_blocks", 0x8000: "verity", 0x10000: "orphan_present",
    ]

    static func names(compat: UInt32, incompat: UInt32, readOnlyCompat: UInt32) -> [String] {
        names(compat, compatNames, "C") + names(incompat, incompatNames, "I") + names(readOnlyCompat, readOnlyNames, "R")
    }

    private static func names(_ bits: UInt32, _ table: [UInt32: String], _ letter: String) -> [String] {
        (0 ..< 32).compactMap { bit -> String? in
            let mask: UInt32 = 1 << bit
            guard bits & mask != 0 else { return nil }
            return table[mask] ?? "FEATURE_\(letter)\(bit)"
        }
    }
}
