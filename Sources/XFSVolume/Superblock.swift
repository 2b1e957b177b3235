import ByteParsing

/// The primary superblock (AG 0, byte 0), big-endian (fs/xfs/libxfs/xfs_format.h, struct
/// xfs_dsb): the geometry every other address is computed from, checked the way
/// xfs_validate_sb_common checks it before anything is read through it.
struct Superblock: Sendable {
    static let magic: UInt32 = 0x5846_5342 // "XFSB"
    static let crcOffset = 224

    enum Incompat {
        static let fileType: UInt32 = 0x01
        static let sparseInodes: UInt32 = 0x02
        static let metaUUID: UInt32 = 0x04
        static let bigTime: UInt32 = 0x08
        static let needsRepair: UInt32 = 0x10
        static let largeExtentCounts: UInt32 = 0x20
        static let exchangeRange: UInt32 = 0x40
        static let parentPointers: UInt32 = 0x80
        /// What this reader knows how to read; others (metadir, zoned) are refused.
        static let understood: UInt32 = fileType | sparseInodes | metaUUID | bigTime | largeExtentCounts | exchangeRange | parentPointers
    }

    enum Version {
        static let numberMask: UInt16 = 0x000F
        static let attributes: UInt16 = 0x0010
        static let linkCounts: UInt16 = 0x0020
        static let extentFlag: UInt16 = 0x1000
        static let directoryV2: UInt16 = 0x2000
        /// ASCII case-insensitive names (mkfs.xfs -n version=ci).
        static let asciiCaseInsensitive: UInt16 = 0x4000
        static let moreBits: UInt16 = 0x8000
    }

    static let features2FileType: UInt32 = 0x0200

    let blockSize: UInt32
    let dataBlocks: UInt64
    let realtimeBlocks: UInt64
    let uuid: [UInt8]
    let logStart: UInt64
    let rootInode: UInt64
    let agBlocks: UInt32
    let agCount: UInt32
    let logBlocks: UInt32
    let versionNumber: UInt16
    let sectorSize: UInt32
    let inodeSize: UInt32
    let inodesPerBlock: UInt32
    let label: String
    let blockLog: UInt8
    let inodesPerBlockLog: UInt8
    let agBlockLog: UInt8
    let directoryBlockLog: UInt8
    let features2: UInt32
    let incompat: UInt32
    let logIncompat: UInt32
    /// The UUID v5 metadata blocks carry (sb_meta_uuid when the UUID was changed later).
    let metadataUUID: [UInt8]

    var version: UInt16 { versionNumber & Version.numberMask }
    var isV5: Bool { version == 5 }
    var hasFileType: Bool { isV5 ? incompat & Incompat.fileType != 0 : features2 & Self.features2FileType != 0 }
    var directoryBlockSize: UInt32 { blockSize << UInt32(directoryBlockLog) }
    /// Bits of an inode number below the AG number (XFS_INO_AGINO_BITS).
    var agInodeBits: Int { Int(agBlockLog) + Int(inodesPerBlockLog) }

    /// Parses and checks the first sector of the volume (`bytes` holds at least 512 bytes).
    static func parse(_ bytes: [UInt8]) throws(ByteParsingError) -> Superblock {
        let reader = ByteReader(bytes)
        func u8(_ at: Int, _ what: String) throws(ByteParsingError) -> UInt8 { try reader.integer(at: at, what) }
        func u16(_ at: Int, _ what: String) throws(ByteParsingError) -> UInt16 { try reader.bigEndian(at: at, what) }
        func u32(_ at: Int, _ what: String) throws(ByteParsingError) -> UInt32 { try reader.bigEndian(at: at, what) }
        func u64(_ at: Int, _ what: String) throws(ByteParsingError) -> UInt64 { try reader.bigEndian(at: at, what) }
        func invalid(_ what: String, _ at: Int, _ reason: String) -> ByteParsingError { .invalid(what: what, at: UInt64(at), reason: reason) }

        guard try u32(0, "magic") == magic else { throw invalid("magic", 0, "not XFSB") }
        let versionNumber = try u16(100, "version")
        let version = versionNumber & Version.numberMask
        guard version == 4 || version == 5 else { throw invalid("version", 100, "\(version), expected 4 or 5") }
        let sectorSize = UInt32(try u16(102, "sector size"))
        let sectorLog = try u8(121, "sector log")
        guard (512 ... 32768).contains(sectorSize), sectorSize == 1 << UInt32(min(sectorLog, 31)) else {
            throw invalid("sector size", 102, "\(sectorSize) bytes (log \(sectorLog))")
        }
        let blockSize = try u32(4, "block size")
        let blockLog = try u8(120, "block log")
        guard (512 ... 65536).contains(blockSize), blockSize >= sectorSize, blockSize == 1 << UInt32(min(blockLog, 31)) else {
            throw invalid("block size", 4, "\(blockSize) bytes (log \(blockLog))")
        }
        let inodeSize = UInt32(try u16(104, "inode size"))
        let inodeLog = try u8(122, "inode log")
        guard ((version == 5 ? 512 : 256) ... 2048).contains(inodeSize), inodeSize <= blockSize,
              inodeSize == 1 << UInt32(min(inodeLog, 31)) else {
            throw invalid("inode size", 104, "\(inodeSize) bytes (log \(inodeLog)) with \(blockSize)-byte blocks")
        }
        let inodesPerBlock = UInt32(try u16(106, "inodes per block"))
        let inodesPerBlockLog = try u8(123, "inodes per block log")
        guard inodesPerBlock == blockSize / inodeSize, UInt32(inodesPerBlockLog) == UInt32(blockLog) - UInt32(inodeLog) else {
            throw invalid("inodes per block", 106, "\(inodesPerBlock) (log \(inodesPerBlockLog)), expected \(blockSize / inodeSize)")
        }
        let agBlocks = try u32(84, "AG blocks")
        let agBlockLog = try u8(124, "AG block log")
        // agblklog is the ceiling of log2(agblocks).
        guard agBlocks >= 64, agBlockLog < 32, agBlocks <= 1 << UInt32(agBlockLog), agBlocks > 1 << UInt32(max(Int(agBlockLog) - 1, 0)) else {
            throw invalid("AG size", 84, "\(agBlocks) blocks (log \(agBlockLog))")
        }
        let agCount = try u32(88, "AG count")
        let dataBlocks = try u64(8, "data blocks")
        let capacity = UInt64(agCount) * UInt64(agBlocks)
        guard agCount >= 1, dataBlocks <= capacity, dataBlocks > capacity - UInt64(agBlocks) else {
            throw invalid("data blocks", 8, "\(dataBlocks) blocks do not fill \(agCount) AGs of \(agBlocks) blocks")
        }
        let directoryBlockLog = try u8(192, "directory block log")
        guard directoryBlockLog <= 16, UInt64(blockSize) << UInt64(directoryBlockLog) <= 65536 else {
            throw invalid("directory block log", 192, "\(directoryBlockLog): directory blocks over 64 KiB")
        }
        let features2 = (versionNumber & Version.moreBits) != 0 ? try u32(200, "features2") : 0
        let incompat = version == 5 ? try u32(216, "incompatible features") : 0
        let uuid = try reader.bytes(at: 32, count: 16, "UUID")
        let metadataUUID = incompat & Incompat.metaUUID != 0 ? try reader.bytes(at: 248, count: 16, "metadata UUID") : uuid
        guard try u8(126, "in progress") == 0 else { throw invalid("in progress", 126, "mkfs did not finish this filesystem") }
        if version == 5 {
            guard bytes.count >= Int(sectorSize), CRC32C.matches(Array(bytes.prefix(Int(sectorSize))), field: crcOffset) else {
                throw invalid("CRC", crcOffset, "the superblock's checksum does not match")
            }
        }
        return Superblock(
            blockSize: blockSize, dataBlocks: dataBlocks, realtimeBlocks: try u64(16, "realtime blocks"), uuid: uuid,
            logStart: try u64(48, "log start"), rootInode: try u64(56, "root inode"), agBlocks: agBlocks, agCount: agCount,
            logBlocks: try u32(96, "log blocks"), versionNumber: versionNumber, sectorSize: sectorSize, inodeSize: inodeSize,
            inodesPerBlock: inodesPerBlock, label: try reader.text(at: 108, count: 12, "label") ?? "", blockLog: blockLog,
            inodesPerBlockLog: inodesPerBlockLog, agBlockLog: agBlockLog, directoryBlockLog: directoryBlockLog,
            features2: features2, incompat: incompat, logIncompat: version == 5 ? try u32(220, "log incompatible features") : 0,
            metadataUUID: metadataUUID)
    }
}
