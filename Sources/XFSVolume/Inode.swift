import ByteParsing
import VolumeModel

/// An on-disk inode (struct xfs_dinode, big-endian): the core, then the data fork and, from
/// `forkOffset`, the attribute fork. v3 inodes (v5 filesystems) carry a CRC, their own number
/// and the filesystem UUID, all checked here.
struct Inode: Sendable {
    static let magic: UInt16 = 0x494E // "IN"
    static let v3CoreSize = 176
    static let v2CoreSize = 100
    static let crcOffset = 100

    /// How a fork stores its contents (xfs_dinode_fmt).
    enum ForkFormat: UInt8, Sendable {
        case device = 0, local = 1, extents = 2, btree = 3
    }

    enum Flag {
        static let realtime: UInt16 = 0x0001
    }

    enum Flag2 {
        static let bigTime: UInt64 = 0x08
        static let largeExtentCounts: UInt64 = 0x10
    }

    let number: UInt64
    let mode: UInt16
    let version: UInt8
    let format: ForkFormat
    let uid: UInt32
    let gid: UInt32
    let linkCount: UInt32
    let accessed: Timestamp
    let modified: Timestamp
    let changed: Timestamp
    let created: Timestamp?
    let size: UInt64
    let blockCount: UInt64
    let dataExtentCount: UInt64
    let attributeExtentCount: UInt64
    let attributeFormat: ForkFormat?
    let flags: UInt16
    let generation: UInt32
    /// The data fork's bytes (the literal area up to the attribute fork).
    let dataFork: [UInt8]
    /// The attribute fork's bytes; nil when the inode has none.
    let attributeFork: [UInt8]?
    /// Volume byte of the data fork, for error messages.
    let dataForkOrigin: UInt64
    let attributeForkOrigin: UInt64

    var kind: NodeKind? {
        switch mode & 0o170000 {
        case 0o100000: .regular
        case 0o040000: .directory
        case 0o120000: .symlink
        case 0o060000: .blockDevice
        case 0o020000: .characterDevice
        case 0o010000: .fifo
        case 0o140000: .socket
        default: nil
        }
    }

    var isRealtime: Bool { flags & Flag.realtime != 0 }

    /// Parses inode `number` from its `sb.inodeSize` bytes at volume byte `origin`.
    static func parse(_ bytes: [UInt8], number: UInt64, origin: UInt64, superblock sb: Superblock) throws(ByteParsingError) -> Inode {
        let reader = ByteReader(bytes, origin: origin)
        func u8(_ at: Int, _ what: String) throws(ByteParsingError) -> UInt8 { try reader.integer(at: at, what) }
        func u16(_ at: Int, _ what: String) throws(ByteParsingError) -> UInt16 { try reader.bigEndian(at: at, what) }
        func u32(_ at: Int, _ what: String) throws(ByteParsingError) -> UInt32 { try reader.bigEndian(at: at, what) }
        func u64(_ at: Int, _ what: String) throws(ByteParsingError) -> UInt64 { try reader.bigEndian(at: at, what) }
        func invalid(_ what: String, _ at: Int, _ reason: String) -> ByteParsingError { .invalid(what: what, at: origin + UInt64(at), reason: reason) }

        guard try u16(0, "magic") == magic else { throw invalid("magic", 0, "not an inode (no IN)") }
        let version = try u8(4, "version")
        let coreSize: Int
        if sb.isV5 {
            guard version == 3 else { throw invalid("version", 4, "\(version) on a v5 filesystem, expected 3") }
            guard CRC32C.matches(bytes, field: crcOffset) else { throw invalid("CRC", crcOffset, "the inode's checksum does not match") }
            guard try u64(152, "inode number") == number else {
                throw invalid("inode number", 152, "holds \(try u64(152, "inode number")), expected \(number)")
            }
            guard try reader.bytes(at: 160, count: 16, "UUID") == sb.metadataUUID else { throw invalid("UUID", 160, "not this filesystem's") }
            coreSize = v3CoreSize
        } else {
            guard version == 1 || version == 2 else { throw invalid("version", 4, "\(version) on a v4 filesystem, expected 1 or 2") }
            coreSize = v2CoreSize
        }
        guard let format = ForkFormat(rawValue: try u8(5, "data fork format")) else {
            throw invalid("data fork format", 5, "unknown format \(try u8(5, "data fork format"))")
        }
        let flags2 = version == 3 ? try u64(120, "flags2") : 0
        let bigTime = flags2 & Flag2.bigTime != 0
        let largeCounts = flags2 & Flag2.largeExtentCounts != 0
        func time(_ at: Int, _ what: String) throws(ByteParsingError) -> Timestamp {
            if bigTime {
                // Nanoseconds since the signed 32-bit epoch's start (XFS_BIGTIME_EPOCH_OFFSET).
                let raw = try u64(at, what)
                return Timestamp(seconds: Int64(raw / 1_000_000_000) - (1 << 31), nanoseconds: UInt32(raw % 1_000_000_000))
            }
            let nanoseconds = try u32(at + 4, what)
            guard nanoseconds < 1_000_000_000 else { throw invalid(what, at + 4, "\(nanoseconds) nanoseconds") }
            return Timestamp(seconds: Int64(Int32(bitPattern: try u32(at, what))), nanoseconds: nanoseconds)
        }
        let literalSize = Int(sb.inodeSize) - coreSize
        let forkOffset = Int(try u8(82, "attribute fork offset")) * 8
        guard forkOffset < literalSize else { throw invalid("attribute fork offset", 82, "\(forkOffset) bytes, past the \(literalSize)-byte literal area") }
        let dataForkSize = forkOffset == 0 ? literalSize : forkOffset
        let attributeFormatRaw = try u8(83, "attribute fork format")
        let attributeFormat: ForkFormat?
        if forkOffset == 0 {
            attributeFormat = nil
        } else {
            guard let value = ForkFormat(rawValue: attributeFormatRaw), value != .device else {
                throw invalid("attribute fork format", 83, "unknown format \(attributeFormatRaw)")
            }
            attributeFormat = value
        }
        let dataExtents: UInt64 = largeCounts ? try u64(24, "data extent count") : UInt64(try u32(76, "data extent count"))
        let attributeExtents: UInt64 = largeCounts ? UInt64(try u32(76, "attribute extent count")) : UInt64(try u16(80, "attribute extent count"))
        let size = try u64(56, "size")
        guard size <= UInt64(Int64.max) else { throw invalid("size", 56, "\(size) bytes") }
        return Inode(
            number: number, mode: try u16(2, "mode"), version: version, format: format,
            uid: try u32(8, "uid"), gid: try u32(12, "gid"),
            linkCount: version == 1 ? UInt32(try u16(6, "link count")) : try u32(16, "link count"),
            accessed: try time(32, "access time"), modified: try time(40, "modification time"),
            changed: try time(48, "change time"), created: version == 3 ? try time(144, "creation time") : nil,
            size: size, blockCount: try u64(64, "block count"),
            dataExtentCount: dataExtents, attributeExtentCount: attributeExtents, attributeFormat: attributeFormat,
            flags: try u16(90, "flags"), generation: try u32(92, "generation"),
            dataFork: try reader.bytes(at: coreSize, count: dataForkSize, "data fork"),
            attributeFork: forkOffset == 0 ? nil : try reader.bytes(at: coreSize + forkOffset, count: literalSize - forkOffset, "attribute fork"),
            dataForkOrigin: origin + UInt64(coreSize), attributeForkOrigin: origin + UInt64(coreSize + forkOffset))
    }
}
