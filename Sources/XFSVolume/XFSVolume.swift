import BlockDevices
import ByteParsing
import Synchronization
import VolumeModel

/// An XFS volume, read-only, parsed in Swift.
///
/// Node numbers are XFS inode numbers (their AG number above the AG-relative part), checked
/// at open to stay below 2^48. State after `open` is immutable; parsed inodes with their
/// block maps and directory listings are cached behind mutexes, so many threads read at once
/// and data reads go straight to the device. A damaged inode, block map or directory block
/// fails the file or directory it belongs to with `VolumeError.corrupt`.
public final class XFSVolume: Volume {
    /// Node numbers `PointNamespace` can carry: it packs the volume index above bit 48.
    static let nodeBits = 48
    static let maxSymlinkTarget = 1024

    public let info: XFSInfo
    /// Names the volume in every error message.
    public let name: String
    public var rootNode: UInt64 { superblock.rootInode }
    public var caseSensitiveNames: Bool { true }

    let device: any BlockDevice
    let superblock: Superblock

    let files = Mutex(BoundedCache<UInt64, XFSFile>(maxCount: 4096, maxWeight: 1 << 20))
    let listings = Mutex(BoundedCache<UInt64, DirectoryListing>(maxCount: 256, maxWeight: 1 << 18))

    private init(device: any BlockDevice, name: String, superblock: Superblock, log: XFSInfo.Log) {
        self.device = device
        self.name = name
        self.superblock = superblock
        info = XFSInfo(label: superblock.label, version: Int(superblock.version), blockSize: superblock.blockSize,
                       dataBlocks: superblock.dataBlocks, agCount: superblock.agCount, inodeSize: superblock.inodeSize,
                       directoryBlockSize: superblock.directoryBlockSize, hasRealtimeSubvolume: superblock.realtimeBlocks > 0, log: log)
    }

    /// What a user should know before trusting what the volume shows (for the CLI to print
    /// once), each naming the volume.
    public var notes: [String] {
        switch info.log {
        case .clean, .external: []
        case .notClean: ["\(name): the XFS log is not clean (not unmounted cleanly): rpfs does not replay it, so files show as on a norecovery mount and the latest changes may be missing"]
        case let .unreadable(why): ["\(name): the XFS log could not be read (\(why)): whether the latest changes are on disk is unknown"]
        }
    }

    /// Opens the XFS volume on `device` (a whole partition or logical volume), read-only.
    /// `name` labels the volume in error messages.
    public static func open(_ device: any BlockDevice, name: String) throws(VolumeError) -> XFSVolume {
        let head = try VolumeRead.read(device, at: 0, count: Int(min(device.size, 32768)), volume: name, purpose: "superblock")
        let superblock: Superblock
        do {
            superblock = try Superblock.parse(head)
        } catch {
            throw .corrupt(volume: name, structure: "superblock", at: 0, problem: "\(error)")
        }
        let unknown = superblock.incompat & ~Superblock.Incompat.understood
        guard unknown == 0 else {
            throw .unsupported("\(name): XFS incompatible features 0x\(String(unknown, radix: 16)) this reader does not read (0x10: xfs_repair did not finish; 0x100 metadata directories; 0x200 zoned storage)")
        }
        guard superblock.isV5 || superblock.versionNumber & Superblock.Version.directoryV2 != 0 else {
            throw .unsupported("\(name): XFS v4 with version 1 directories")
        }
        guard superblock.versionNumber & Superblock.Version.asciiCaseInsensitive == 0 else {
            throw .unsupported("\(name): XFS with ASCII case-insensitive names (mkfs.xfs -n version=ci)")
        }
        guard superblock.inodeNumbersFit(in: nodeBits) else {
            throw .unsupported("\(name): \(superblock.agCount) AGs of \(superblock.agBlocks) blocks give inode numbers of more than \(nodeBits) bits, more than rpfs can number")
        }
        let (bytes, overflow) = superblock.dataBlocks.multipliedReportingOverflow(by: UInt64(superblock.blockSize))
        guard !overflow, bytes <= device.size else {
            throw .corrupt(volume: name, structure: "superblock", at: 0,
                           problem: "\(superblock.dataBlocks) blocks of \(superblock.blockSize) bytes do not fit the \(device.size)-byte device")
        }
        let volume = XFSVolume(device: device, name: name, superblock: superblock, log: logState(device, name: name, superblock))
        let root = try volume.file(superblock.rootInode)
        guard root.kind == .directory else {
            throw .corrupt(volume: name, structure: "inode \(superblock.rootInode)", problem: "the root is a \(root.kind.rawValue), not a directory")
        }
        return volume
    }

    /// The internal log's state, found through the device; a log that cannot be read does
    /// not keep the files from being shown.
    private static func logState(_ device: any BlockDevice, name: String, _ superblock: Superblock) -> XFSInfo.Log {
        guard superblock.logStart != 0 else { return .external }
        let blockSize = UInt64(superblock.blockSize)
        guard let first = superblock.volumeBlock(superblock.logStart, count: UInt64(superblock.logBlocks)),
              superblock.logBlocks > 0 else {
            return .unreadable("the superblock places it at block \(superblock.logStart), outside the filesystem")
        }
        let origin = first * blockSize
        let blockCount = Int(UInt64(superblock.logBlocks) * blockSize / UInt64(LogState.blockSize))
        do {
            let state = try LogState.find(blockCount: blockCount) { (block, count) throws(VolumeError) in
                try VolumeRead.read(device, at: origin + UInt64(block * LogState.blockSize), count: count * LogState.blockSize,
                                    volume: name, purpose: "log")
            }
            return state.isClean ? .clean : .notClean
        } catch {
            return .unreadable("\(error)")
        }
    }

    public func attributes(of node: UInt64) throws(VolumeError) -> NodeAttributes {
        let file = try file(node)
        let inode = file.inode
        var device: UInt64 = 0
        if file.kind == .blockDevice || file.kind == .characterDevice {
            // A device inode's data fork holds its number: 14-bit major, 18-bit minor.
            let raw = inode.dataFork.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            device = DeviceNumber.make(major: raw >> 18, minor: raw & 0x3FFFF)
        }
        let (allocated, overflow) = inode.blockCount.multipliedReportingOverflow(by: UInt64(superblock.blockSize))
        return NodeAttributes(
            node: node, kind: file.kind, permissions: inode.mode & 0o7777, uid: inode.uid, gid: inode.gid,
            size: file.kind == .regular || file.kind == .directory || file.kind == .symlink ? inode.size : 0,
            allocatedBytes: overflow ? UInt64.max : allocated, linkCount: inode.linkCount,
            accessed: inode.accessed, modified: inode.modified, changed: inode.changed, created: inode.created, device: device)
    }

    public func read(_ node: UInt64, at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(VolumeError) -> Int {
        let (file, map) = try regularFile(node)
        let size = file.inode.size
        guard offset < size, buffer.count > 0 else { return 0 }
        let count = Int(min(UInt64(buffer.count), size - offset))
        try map.read(at: offset, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0 ..< count]), from: device, volume: name, what: "inode \(node) data")
        return count
    }

    public func dataRanges(of node: UInt64) throws(VolumeError) -> [Range<UInt64>] {
        let (file, map) = try regularFile(node)
        return map.dataRanges(below: file.inode.size)
    }

    public func namedStreams(of node: UInt64) throws(VolumeError) -> [NamedStream] {
        _ = try file(node)
        return []
    }

    /// A regular file with its map, refusing what has no data to read here.
    func regularFile(_ node: UInt64) throws(VolumeError) -> (XFSFile, RunMap) {
        let file = try file(node)
        switch file.kind {
        case .regular: break
        case .directory: throw .isADirectory("\(name): inode \(node)")
        default: throw .unsupported("\(name): inode \(node) is a \(file.kind.rawValue): it has no file data to read")
        }
        guard !file.inode.isRealtime else {
            throw .unsupported("\(name): inode \(node) keeps its data on the realtime subvolume, which rpfs does not read")
        }
        guard let map = file.map else { throw corrupt("inode \(node)", "a regular file whose data fork is not a block map") }
        return (file, map)
    }

    /// The inode `node`, parsed and checked, with its data fork's map; cached.
    func file(_ node: UInt64) throws(VolumeError) -> XFSFile {
        try files.value(for: node, weight: \.weight) { () throws(VolumeError) in try loadFile(node) }
    }

    private func loadFile(_ node: UInt64) throws(VolumeError) -> XFSFile {
        guard let origin = superblock.inodeOffset(node) else {
            throw .notFound("\(name): inode \(node) lies outside the filesystem's geometry")
        }
        let label = "inode \(node)"
        let bytes = try readBytes(at: origin, count: Int(superblock.inodeSize), purpose: label)
        let inode = try parsing(label, at: origin) { () throws(ByteParsingError) in
            try Inode.parse(bytes, number: node, origin: origin, superblock: superblock)
        }
        guard let kind = inode.kind else {
            throw corrupt(label, at: origin, inode.mode == 0 ? "a free inode" : "mode 0o\(String(inode.mode, radix: 8)) names no file type")
        }
        let expected: Set<Inode.ForkFormat> = switch kind {
        case .regular: [.extents, .btree]
        case .directory, .symlink: [.local, .extents, .btree]
        case .blockDevice, .characterDevice, .fifo, .socket: [.device]
        }
        guard expected.contains(inode.format) else {
            throw corrupt(label, at: origin, "a \(kind.rawValue) with a data fork in format \(inode.format)")
        }
        var map: RunMap?
        if inode.format == .extents || inode.format == .btree, !inode.isRealtime {
            map = try blockMap(ForkBytes(bytes: inode.dataFork, origin: inode.dataForkOrigin, format: inode.format,
                                         extentCount: inode.dataExtentCount, label: "data fork of \(label)"), owner: node)
        }
        return XFSFile(inode: inode, kind: kind, map: map)
    }

    func readBytes(at offset: UInt64, count: Int, purpose: String) throws(VolumeError) -> [UInt8] {
        try VolumeRead.read(device, at: offset, count: count, volume: name, purpose: purpose)
    }

    func corrupt(_ structure: String, at: UInt64? = nil, _ problem: String) -> VolumeError {
        .corrupt(volume: name, structure: structure, at: at, problem: problem)
    }

    /// Runs a parser, turning its failure into corruption of `structure`.
    func parsing<T>(_ structure: String, at: UInt64?, _ body: () throws(ByteParsingError) -> T) throws(VolumeError) -> T {
        do {
            return try body()
        } catch {
            throw corrupt(structure, at: at, "\(error)")
        }
    }
}
