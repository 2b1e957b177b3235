import ByteParsing
import VolumeModel

/// One on-disk inode (`struct ext2_inode_large`), parsed from the bytes libext2fs read for it.
/// Field offsets are those of ext2_fs.h; everything is little-endian.
struct Inode: Sendable {
    /// i_flags bits rpfs looks at.
    enum Flag {
        static let encrypted: UInt32 = 0x0000_0800 // EXT4_ENCRYPT_FL
        static let hugeFile: UInt32 = 0x0004_0000 // EXT4_HUGE_FILE_FL
        static let extents: UInt32 = 0x0008_0000 // EXT4_EXTENTS_FL
        static let inlineData: UInt32 = 0x1000_0000 // EXT4_INLINE_DATA_FL
        static let casefold: UInt32 = 0x4000_0000 // EXT4_CASEFOLD_FL
    }

    /// Size of the classic inode; fields after it exist only when i_extra_isize covers them.
    static let goodOldSize = 128
    /// i_block: 15 little-endian 32-bit words (block map, extent root, fast symlink, device).
    static let blockArraySize = 60

    let number: UInt64
    let mode: UInt16
    let uid: UInt32
    let gid: UInt32
    let size: UInt64
    let linkCount: UInt16
    let flags: UInt32
    /// i_blocks in 512-byte units, after the huge_file rules.
    let sectors: UInt64
    /// The raw i_block array.
    let blockArray: [UInt8]
    let fileACLBlock: UInt64
    let accessed: Timestamp
    let modified: Timestamp
    let changed: Timestamp
    let created: Timestamp?

    var kind: NodeKind? { Self.kind(ofMode: mode) }
    var isEncrypted: Bool { flags & Flag.encrypted != 0 }
    var hasInlineData: Bool { flags & Flag.inlineData != 0 }
    var usesExtents: Bool { flags & Flag.extents != 0 }
    var isCasefolded: Bool { flags & Flag.casefold != 0 }

    static func kind(ofMode mode: UInt16) -> NodeKind? {
        switch mode & 0xF000 {
        case 0x8000: .regular
        case 0x4000: .directory
        case 0xA000: .symlink
        case 0x6000: .blockDevice
        case 0x2000: .characterDevice
        case 0x1000: .fifo
        case 0xC000: .socket
        default: nil
        }
    }

    /// Parses `bytes` (the inode as stored, `inodeSize` long). `blockSize` and `hugeFiles`
    /// (the huge_file feature) decide the unit of i_blocks.
    init(volume: String, number: UInt64, bytes: [UInt8], blockSize: UInt32, hugeFiles: Bool) throws(VolumeError) {
        self.number = number
        var badExtraSize: UInt16?
        do throws(ByteParsingError) {
            let raw = ByteReader(bytes)
            mode = try raw.integer(at: 0x00, "i_mode")
            let uidLow: UInt16 = try raw.integer(at: 0x02, "i_uid")
            let sizeLow: UInt32 = try raw.integer(at: 0x04, "i_size_lo")
            let atime: UInt32 = try raw.integer(at: 0x08, "i_atime")
            let ctime: UInt32 = try raw.integer(at: 0x0C, "i_ctime")
            let mtime: UInt32 = try raw.integer(at: 0x10, "i_mtime")
            let gidLow: UInt16 = try raw.integer(at: 0x18, "i_gid")
            linkCount = try raw.integer(at: 0x1A, "i_links_count")
            let blocksLow: UInt32 = try raw.integer(at: 0x1C, "i_blocks_lo")
            flags = try raw.integer(at: 0x20, "i_flags")
            var cursor = raw
            try cursor.seek(to: 0x28)
            blockArray = try cursor.bytes(Self.blockArraySize, "i_block")
            let aclLow: UInt32 = try raw.integer(at: 0x68, "i_file_acl_lo")
            let sizeHigh: UInt32 = try raw.integer(at: 0x6C, "i_size_high")
            let blocksHigh: UInt16 = try raw.integer(at: 0x74, "l_i_blocks_high")
            let aclHigh: UInt16 = try raw.integer(at: 0x76, "l_i_file_acl_high")
            let uidHigh: UInt16 = try raw.integer(at: 0x78, "l_i_uid_high")
            let gidHigh: UInt16 = try raw.integer(at: 0x7A, "l_i_gid_high")
            uid = UInt32(uidHigh) << 16 | UInt32(uidLow)
            gid = UInt32(gidHigh) << 16 | UInt32(gidLow)
            size = UInt64(sizeHigh) << 32 | UInt64(sizeLow)
            fileACLBlock = UInt64(aclHigh) << 32 | UInt64(aclLow)

            // i_blocks: 512-byte units; with huge_file, 48 bits, and in filesystem blocks
            // when the inode carries EXT4_HUGE_FILE_FL.
            if hugeFiles {
                let count = UInt64(blocksHigh) << 32 | UInt64(blocksLow)
                if flags & Flag.hugeFile != 0 {
                    // At most 2^48 * 128: cannot overflow.
                    sectors = count * UInt64(max(blockSize / 512, 1))
                } else {
                    sectors = count
                }
            } else {
                sectors = UInt64(blocksLow)
            }

            // The large-inode tail: present when the inode is bigger than 128 bytes, and each
            // field only when i_extra_isize reaches past it (EXT4_FITS_IN_INODE).
            var extraSize = 0
            if bytes.count > Self.goodOldSize {
                let declared: UInt16 = try raw.integer(at: 0x80, "i_extra_isize")
                if Self.goodOldSize + Int(declared) <= bytes.count, declared % 4 == 0 {
                    extraSize = Int(declared)
                } else {
                    badExtraSize = declared
                }
            }
            func extra(_ offset: Int, _ what: String) throws(ByteParsingError) -> UInt32? {
                offset + 4 <= Self.goodOldSize + extraSize ? try raw.integer(at: offset, what) : nil
            }
            changed = Self.timestamp(ctime, extra: try extra(0x84, "i_ctime_extra"))
            modified = Self.timestamp(mtime, extra: try extra(0x88, "i_mtime_extra"))
            accessed = Self.timestamp(atime, extra: try extra(0x8C, "i_atime_extra"))
            if let crtime = try extra(0x90, "i_crtime") {
                created = Self.timestamp(crtime, extra: try extra(0x94, "i_crtime_extra"))
            } else {
                created = nil
            }
        } catch {
            throw .corrupt(volume: volume, structure: "inode \(number)", problem: "\(error)")
        }
        if let badExtraSize {
            throw .corrupt(volume: volume, structure: "inode \(number)", problem: "i_extra_isize \(badExtraSize) does not fit a \(bytes.count)-byte inode")
        }
    }

    /// ext4_decode_extra_time: the 32-bit field is signed seconds; the extra word holds two
    /// epoch bits (added as multiples of 2^32 seconds) and 30 bits of nanoseconds.
    static func timestamp(_ seconds: UInt32, extra: UInt32?) -> Timestamp {
        var whole = Int64(Int32(bitPattern: seconds))
        var nanoseconds: UInt32 = 0
        if let extra {
            whole += Int64(extra & 0x3) << 32
            // 30 bits can say up to 1_073_741_823; a value past a second is damage, clamped so
            // callers can hand it to utimensat.
            nanoseconds = min(extra >> 2, 999_999_999)
        }
        return Timestamp(seconds: whole, nanoseconds: nanoseconds)
    }

    /// The 32-bit word `index` of i_block.
    func blockWord(_ index: Int) -> UInt32 {
        let base = index * 4
        guard index >= 0, base + 4 <= blockArray.count else { return 0 }
        return UInt32(blockArray[base]) | UInt32(blockArray[base + 1]) << 8
            | UInt32(blockArray[base + 2]) << 16 | UInt32(blockArray[base + 3]) << 24
    }

    /// The device number of a block or character device, in glibc's 64-bit dev_t encoding.
    /// The kernel stores old 8:8 numbers in i_block[0] and new 12:20 ones in i_block[1].
    var deviceNumber: UInt64 {
        let major: UInt32
        let minor: UInt32
        let old = blockWord(0)
        if old != 0 {
            major = (old >> 8) & 0xFF
            minor = old & 0xFF
        } else {
            let new = blockWord(1)
            major = (new & 0xFFF00) >> 8
            minor = (new & 0xFF) | ((new >> 12) & 0xFFF00)
        }
        return DeviceNumber.make(major: major, minor: minor)
    }

    func attributes(kind: NodeKind) -> NodeAttributes {
        NodeAttributes(
            node: number, kind: kind, permissions: mode & 0o7777, uid: uid, gid: gid, size: size,
            // sectors < 2^55: the product fits.
            allocatedBytes: sectors * 512,
            linkCount: UInt32(linkCount),
            accessed: accessed, modified: modified, changed: changed, created: created,
            device: kind == .blockDevice || kind == .characterDevice ? deviceNumber : 0)
    }
}

