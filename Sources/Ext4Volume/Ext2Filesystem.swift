#if canImport(Glibc)
import Glibc
#endif
import BlockDevices
import ByteParsing
import CExt2fs
import VolumeModel

/// A contiguous piece of a file's block map: `count` logical blocks from `logical` that live
/// at `physical` on the volume; uninitialized (preallocated) extents read as zeros.
struct Run: Sendable, Equatable {
    var logical: UInt64
    var physical: UInt64
    var count: UInt64
    var initialized: Bool

    var end: UInt64 { logical + count }
}

/// A backup superblock: its block number, in blocks of `blockSize` bytes.
public struct SuperblockCopy: Sendable, Equatable {
    public let block: UInt64
    public let blockSize: UInt32

    public init(block: UInt64, blockSize: UInt32) {
        self.block = block
        self.blockSize = blockSize
    }
}

/// One entry of a directory block as stored: raw name bytes, inode, dirent file type.
struct RawDirectoryEntry {
    let name: [UInt8]
    let inode: UInt32
    let fileType: UInt8
}

/// The whole libext2fs surface of rpfs: one open `ext2_filsys` and every call made on it.
///
/// Not thread-safe: one handle must not be used by two threads at once (measured: wrong
/// bytes). `Ext4Volume` keeps its instance behind a `Mutex`, so every method here runs under
/// that lock. Errors come back as `VolumeError`s naming the operation and the inode.
final class Ext2Filesystem {
    private let fs: ext2_filsys
    private let channel: DeviceChannel
    let superblock: Superblock
    let name: String
    let blockSize: UInt32
    let inodeSize: Int
    let hasCasefoldEncoding: Bool

    private init(fs: ext2_filsys, channel: DeviceChannel, superblock: Superblock, name: String) {
        self.fs = fs
        self.channel = channel
        self.superblock = superblock
        self.name = name
        blockSize = superblock.blockSize
        inodeSize = Int(superblock.inodeSize)
        hasCasefoldEncoding = fs.pointee.encoding != nil
    }

    /// Opens the volume on `device` read-only, with 64-bit block numbers and checksums
    /// verified: from the primary superblock, or from the backup `superblockCopy` (its block
    /// group's descriptor copy follows it), as e2fsck's `-b` does.
    static func open(device: any BlockDevice, name: String, superblockCopy: SuperblockCopy? = nil) throws(VolumeError) -> Ext2Filesystem {
        // libext2fs takes the copy's block number as an int.
        guard let copyBlock = Int32(exactly: superblockCopy?.block ?? 0) else {
            throw .corrupt(volume: name, structure: "backup superblock", problem: "block \(superblockCopy?.block ?? 0) is beyond what libext2fs can open")
        }
        let channel = DeviceChannel(device: device)
        var opened: ext2_filsys?
        let code = BlockDeviceIOManager.withRegisteredName(for: channel) { deviceName in
            ext2fs_open2(deviceName, nil, EXT2_FLAG_64BITS, copyBlock, superblockCopy?.blockSize ?? 0, BlockDeviceIOManager.manager, &opened)
        }
        let error = channel.takeError()
        guard code == 0, error == nil else {
            if let opened { ext2fs_free(opened) }
            throw Ext2Errors.volumeError(code, volume: name, structure: "superblock and group descriptors", error: error)
        }
        // libext2fs sets the handle whenever it returns 0.
        guard let opened else { preconditionFailure("ext2fs_open2 succeeded without a handle") }
        do throws(VolumeError) {
            let superblock = try checkedSuperblock(opened, name: name)
            return Ext2Filesystem(fs: opened, channel: channel, superblock: superblock, name: name)
        } catch {
            ext2fs_free(opened)
            throw error
        }
    }

    /// The superblock libext2fs accepted, with the limits rpfs relies on checked again.
    private static func checkedSuperblock(_ fs: ext2_filsys, name: String) throws(VolumeError) -> Superblock {
        let bytes = withUnsafeBytes(of: fs.pointee.super.pointee) { Array($0.prefix(Superblock.size)) }
        let superblock: Superblock
        do {
            superblock = try Superblock(bytes)
        } catch {
            throw .corrupt(volume: name, structure: "superblock", at: Superblock.offset, problem: "\(error)")
        }
        let blockSize = superblock.blockSize
        guard blockSize >= 1024, blockSize == fs.pointee.blocksize else {
            throw .corrupt(volume: name, structure: "superblock", at: Superblock.offset, problem: "block size \(fs.pointee.blocksize) is not 1 KiB to 64 KiB")
        }
        let inodeSize = Int(superblock.inodeSize)
        guard inodeSize >= Inode.goodOldSize, inodeSize <= Int(blockSize), inodeSize.nonzeroBitCount == 1 else {
            throw .corrupt(volume: name, structure: "superblock", at: Superblock.offset,
                           problem: "inode size \(inodeSize) is not a power of two from 128 to the block size")
        }
        guard !superblock.blockCount.multipliedReportingOverflow(by: UInt64(blockSize)).overflow else {
            throw .corrupt(volume: name, structure: "superblock", at: Superblock.offset,
                           problem: "\(superblock.blockCount) blocks of \(blockSize) bytes overflow 64 bits")
        }
        return superblock
    }

    deinit {
        // ext2fs_free, not ext2fs_close: nothing is ever flushed back, the handle is just freed
        // (it closes the I/O channel, which releases the device).
        ext2fs_free(fs)
    }

    // MARK: - Calls

    /// Runs one libext2fs call on `structure` ("extent tree of inode 12") and turns a failure
    /// (or a device read failure it swallowed) into a `VolumeError` about it.
    private func perform(_ structure: @autoclosure () -> String, _ call: () -> errcode_t) throws(VolumeError) {
        _ = channel.takeError()
        let code = call()
        let error = channel.takeError()
        guard code != 0 || error != nil else { return }
        throw Ext2Errors.volumeError(code, volume: name, structure: structure(), error: error)
    }

    private func inodeNumber(_ node: UInt64) throws(VolumeError) -> ext2_ino_t {
        guard node >= 1, node <= UInt64(superblock.inodeCount), let number = ext2_ino_t(exactly: node) else {
            throw .notFound("\(name): inode \(node)")
        }
        return number
    }

    /// The inode `node` as stored.
    func inode(_ node: UInt64) throws(VolumeError) -> Inode {
        let number = try inodeNumber(node)
        let size = inodeSize
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        try perform("inode \(node)") {
            ext2fs_read_inode_full(fs, number, buffer.assumingMemoryBound(to: ext2_inode.self), Int32(size))
        }
        let bytes = Array(UnsafeRawBufferPointer(start: buffer, count: size))
        return try Inode(volume: name, number: node, bytes: bytes, blockSize: blockSize,
                         hugeFiles: superblock.has(readOnlyCompat: Feature.readOnlyHugeFile))
    }

    /// How many block-map steps a file may take: every leaf extent or mapped block holds at
    /// least one allocated block and every index entry names one, so a sane map is bounded
    /// by the inode's own block count. A tree that loops or repeats itself hits this bound.
    private func stepLimit(_ inode: Inode) -> Int {
        let sectorsPerBlock = UInt64(blockSize / 512)
        let allocated = min(inode.sectors / max(sectorsPerBlock, 1), superblock.blockCount)
        let (doubled, overflow) = allocated.multipliedReportingOverflow(by: 2)
        return overflow ? Int.max : Int(clamping: doubled &+ 64)
    }

    /// The block map of an extent-mapped inode, in logical order, adjacent pieces merged.
    func extentRuns(of inode: Inode) throws(VolumeError) -> [Run] {
        let number = try inodeNumber(inode.number)
        let structure = "extent tree of inode \(inode.number)"
        var handle: ext2_extent_handle_t?
        try perform(structure) { ext2fs_extent_open2(fs, number, nil, &handle) }
        defer { ext2fs_extent_free(handle) }
        let limit = stepLimit(inode)
        var collector = RunCollector(inode: inode.number, blockCount: superblock.blockCount,
                                     firstDataBlock: UInt64(superblock.firstDataBlock), volume: name)
        var extent = ext2fs_extent()
        var operation = EXT2_EXTENT_ROOT
        var steps = 0
        while true {
            steps += 1
            guard steps <= limit else {
                throw .corrupt(volume: name, structure: structure,
                               problem: "has more entries than the inode's \(inode.sectors) allocated sectors allow")
            }
            var code: errcode_t = 0
            try perform(structure) {
                code = ext2fs_extent_get(handle, operation, &extent)
                return code == EXT2_ET_EXTENT_NO_NEXT ? 0 : code
            }
            if code == EXT2_ET_EXTENT_NO_NEXT { break }
            operation = EXT2_EXTENT_NEXT
            let flags = Int32(bitPattern: extent.e_flags)
            // Index entries are visited on the way down and again on the way up; only leaves map data.
            guard flags & EXT2_EXTENT_FLAGS_LEAF != 0, flags & EXT2_EXTENT_FLAGS_SECOND_VISIT == 0 else { continue }
            try collector.add(logical: extent.e_lblk, physical: extent.e_pblk, count: UInt64(extent.e_len),
                              initialized: flags & EXT2_EXTENT_FLAGS_UNINIT == 0)
        }
        return collector.runs
    }

    /// The block map of an indirect-mapped (ext2/ext3) inode.
    func indirectRuns(of inode: Inode) throws(VolumeError) -> [Run] {
        let number = try inodeNumber(inode.number)
        // A file with no blocks: nothing to walk (and i_block may hold anything).
        if inode.blockArray.allSatisfy({ $0 == 0 }) { return [] }
        let state = BlockWalk(collector: RunCollector(inode: inode.number, blockCount: superblock.blockCount,
                                                      firstDataBlock: UInt64(superblock.firstDataBlock), volume: name),
                              limit: stepLimit(inode))
        let unmanaged = Unmanaged.passRetained(state)
        defer { unmanaged.release() }
        try perform("block map of inode \(inode.number)") {
            ext2fs_block_iterate3(fs, number, BLOCK_FLAG_READ_ONLY, nil, blockVisitor, unmanaged.toOpaque())
        }
        if let failure = state.failure { throw failure }
        return state.collector.runs
    }

    /// The bytes of an inline-data inode (i_block and the system.data attribute).
    func inlineData(of node: UInt64) throws(VolumeError) -> [UInt8] {
        let number = try inodeNumber(node)
        var size = 0
        try perform("inline data of inode \(node)") { ext2fs_inline_data_size(fs, number, &size) }
        // i_block plus an in-inode attribute: never more than an inode, let alone a block.
        guard size <= Inode.blockArraySize + Int(blockSize) else {
            throw .corrupt(volume: name, structure: "inline data of inode \(node)", problem: "\(size) bytes cannot fit in an inode")
        }
        // ext2fs_inline_data_get always copies the whole of i_block.
        let capacity = max(size, Inode.blockArraySize)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: capacity)
        var copied = capacity
        try perform("inline data of inode \(node)") {
            ext2fs_inline_data_get(fs, number, nil, buffer, &copied)
        }
        return Array(UnsafeRawBufferPointer(start: buffer, count: min(copied, size)))
    }

    /// Every live entry of a directory, "." and ".." included, in on-disk order.
    func directoryEntries(of directory: Inode) throws(VolumeError) -> [RawDirectoryEntry] {
        let node = directory.number
        let number = try inodeNumber(node)
        // libext2fs walks the block map without bounding it: walk it first with the checks of
        // `extentRuns`/`indirectRuns`, so a looping or oversized map fails here, not in a hang.
        if !directory.hasInlineData {
            _ = directory.usesExtents ? try extentRuns(of: directory) : try indirectRuns(of: directory)
        }
        // The smallest entry is 12 bytes; inline directories add at most an inode's worth.
        let (allocated, overflow) = directory.sectors.multipliedReportingOverflow(by: 512)
        let sizeHint = max(directory.size, overflow ? UInt64.max : allocated)
        let limit = Int(clamping: sizeHint / 12 + 4096)
        let state = DirectoryWalk(limit: limit, hasFileType: superblock.has(incompat: Feature.incompatFiletype))
        let unmanaged = Unmanaged.passRetained(state)
        defer { unmanaged.release() }
        try perform("directory inode \(node)") {
            ext2fs_dir_iterate2(fs, number, 0, nil, directoryVisitor, unmanaged.toOpaque())
        }
        if state.overflowed {
            throw .corrupt(volume: name, structure: "directory inode \(node)", problem: "holds more entries than its size (\(sizeHint) bytes) allows")
        }
        return state.entries
    }

    /// Extended attributes with full names ("user.x"), values as stored (POSIX ACLs in ext4's
    /// on-disk format: see `Ext4ACL`). Empty when the volume has no xattr support at all.
    func extendedAttributes(of node: UInt64) throws(VolumeError) -> [(name: [UInt8], value: [UInt8])] {
        let number = try inodeNumber(node)
        var handle: OpaquePointer?
        var openCode: errcode_t = 0
        try perform("extended attributes of inode \(node)") {
            openCode = ext2fs_xattrs_open(fs, number, &handle)
            return openCode == EXT2_ET_MISSING_EA_FEATURE ? 0 : openCode
        }
        if openCode == EXT2_ET_MISSING_EA_FEATURE { return [] }
        defer { ext2fs_xattrs_close(&handle) }
        try perform("extended attributes of inode \(node)") { ext2fs_xattrs_read(handle) }
        let state = AttributeWalk()
        let unmanaged = Unmanaged.passRetained(state)
        defer { unmanaged.release() }
        try perform("extended attributes of inode \(node)") {
            ext2fs_xattrs_iterate(handle, attributeVisitor, unmanaged.toOpaque())
        }
        return state.attributes
    }

    /// Whether two names match under the volume's casefolding rules (casefold directories).
    func casefoldEqual(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        guard let encoding = fs.pointee.encoding else { return false }
        return ext2fs_casefold_cmp(encoding, left, left.count, right, right.count) == 0
    }
}

// MARK: - Callbacks and their state

/// Collects block-map pieces, checking order and bounds as they come.
struct RunCollector {
    let inode: UInt64
    let blockCount: UInt64
    let firstDataBlock: UInt64
    let volume: String
    private(set) var runs: [Run] = []
    private var nextLogical: UInt64 = 0

    init(inode: UInt64, blockCount: UInt64, firstDataBlock: UInt64, volume: String) {
        self.inode = inode
        self.blockCount = blockCount
        self.firstDataBlock = firstDataBlock
        self.volume = volume
    }

    mutating func add(logical: UInt64, physical: UInt64, count: UInt64, initialized: Bool) throws(VolumeError) {
        func corrupt(_ problem: String) -> VolumeError {
            .corrupt(volume: volume, structure: "inode \(inode)", problem: "logical block \(logical): \(problem)")
        }
        guard count > 0 else { throw corrupt("extent of length 0") }
        guard logical >= nextLogical else {
            throw corrupt("block map out of order or overlapping (expected \(nextLogical) or later)")
        }
        // ext4 logical block numbers are 32-bit.
        guard logical + count <= 1 << 32 else { throw corrupt("extent runs past the largest file offset") }
        let (physicalEnd, overflow) = physical.addingReportingOverflow(count)
        guard !overflow, physical >= firstDataBlock, physicalEnd <= blockCount else {
            throw corrupt("\(count) blocks at \(physical) lie outside the volume's \(blockCount) blocks")
        }
        nextLogical = logical + count
        if var last = runs.last, last.end == logical, last.physical + last.count == physical, last.initialized == initialized {
            last.count += count
            runs[runs.count - 1] = last
        } else {
            runs.append(Run(logical: logical, physical: physical, count: count, initialized: initialized))
        }
    }
}

private final class BlockWalk {
    var collector: RunCollector
    let limit: Int
    var steps = 0
    var failure: VolumeError?

    init(collector: RunCollector, limit: Int) {
        self.collector = collector
        self.limit = limit
    }
}

private let blockVisitor: @convention(c) (ext2_filsys?, UnsafeMutablePointer<blk64_t>?, e2_blkcnt_t, blk64_t, Int32, UnsafeMutableRawPointer?) -> Int32 = { _, block, logical, _, _, context in
    guard let context, let block else { return BLOCK_ABORT }
    let walk = Unmanaged<BlockWalk>.fromOpaque(context).takeUnretainedValue()
    walk.steps += 1
    guard walk.steps <= walk.limit else {
        walk.failure = .corrupt(volume: walk.collector.volume, structure: "block map of inode \(walk.collector.inode)",
                                problem: "has more blocks than the inode's allocated sectors allow")
        return BLOCK_ABORT
    }
    // Negative counts are the indirect blocks themselves, not file data.
    guard logical >= 0 else { return 0 }
    do throws(VolumeError) {
        try walk.collector.add(logical: UInt64(logical), physical: block.pointee, count: 1, initialized: true)
    } catch {
        walk.failure = error
        return BLOCK_ABORT
    }
    return 0
}

private final class DirectoryWalk {
    let limit: Int
    let hasFileType: Bool
    var entries: [RawDirectoryEntry] = []
    var overflowed = false

    init(limit: Int, hasFileType: Bool) {
        self.limit = limit
        self.hasFileType = hasFileType
    }
}

/// Offset of the name in `struct ext2_dir_entry` (inode u32, rec_len u16, name_len u16).
private let direntNameOffset = 8

private let directoryVisitor: @convention(c) (ext2_ino_t, Int32, UnsafeMutablePointer<ext2_dir_entry>?, Int32, Int32, UnsafeMutablePointer<CChar>?, UnsafeMutableRawPointer?) -> Int32 = { _, _, entry, _, _, _, context in
    guard let context, let entry else { return DIRENT_ABORT }
    let walk = Unmanaged<DirectoryWalk>.fromOpaque(context).takeUnretainedValue()
    guard walk.entries.count < walk.limit else {
        walk.overflowed = true
        return DIRENT_ABORT
    }
    // libext2fs has checked rec_len and that name_len fits inside it (EXT2_ET_DIR_CORRUPTED otherwise).
    let nameLength = Int(entry.pointee.name_len & 0xFF)
    let namePointer = UnsafeRawPointer(entry) + direntNameOffset
    let name = Array(UnsafeRawBufferPointer(start: namePointer, count: nameLength))
    let fileType = walk.hasFileType ? UInt8(truncatingIfNeeded: entry.pointee.name_len >> 8) & 0x0F : 0
    walk.entries.append(RawDirectoryEntry(name: name, inode: entry.pointee.inode, fileType: fileType))
    return 0
}

private final class AttributeWalk {
    var attributes: [(name: [UInt8], value: [UInt8])] = []
}

private let attributeVisitor: @convention(c) (UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<CChar>?, Int, UnsafeMutableRawPointer?) -> Int32 = { name, value, length, context in
    guard let context, let name else { return XATTR_ABORT }
    let walk = Unmanaged<AttributeWalk>.fromOpaque(context).takeUnretainedValue()
    let nameBytes = Array(UnsafeRawBufferPointer(start: name, count: strlen(name)))
    let valueBytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: length)) } ?? []
    walk.attributes.append((nameBytes, valueBytes))
    return 0
}
