/// A readable filesystem: what every frontend (ls, cp, restore, FUSE) needs from ext4 or
/// NTFS, and nothing more. Node numbers are the volume's own (ext inode numbers, NTFS MFT
/// record numbers); `PointNamespace` makes them unique across volumes.
///
/// Implementations are safe to call from many threads at once.
public protocol Volume: AnyObject, Sendable {
    /// The root directory's node.
    var rootNode: UInt64 { get }
    /// Whether names differ by case (ext4) or not (NTFS): `lookup` follows it, and so must
    /// anything else that matches names, such as restore patterns.
    var caseSensitiveNames: Bool { get }
    /// What a user should be told once about how the volume was opened: a backup copy of
    /// a damaged structure used in its place. Empty when nothing needs saying.
    var notes: [String] { get }

    func attributes(of node: UInt64) throws(VolumeError) -> NodeAttributes
    /// Every entry of a directory except "." and "..".
    func entries(of directory: UInt64) throws(VolumeError) -> [DirectoryEntry]
    /// The node named `name` in `directory`, by the volume's own name rules.
    func lookup(_ name: FileName, in directory: UInt64) throws(VolumeError) -> UInt64
    /// Reads file data at `offset`; returns the bytes read (fewer only at end of file).
    /// Holes read as zeros.
    func read(_ node: UInt64, at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(VolumeError) -> Int
    /// The target of a symbolic link, as stored.
    func symlinkTarget(of node: UInt64) throws(VolumeError) -> [UInt8]
    /// Extended attributes with their full Linux names ("user.x", "security.selinux",
    /// "system.posix_acl_access" in the kernel's xattr format), in a stable order.
    func extendedAttributes(of node: UInt64) throws(VolumeError) -> [ExtendedAttribute]
    /// One extended attribute by name (nil when the node has none of that name): those
    /// listed by `extendedAttributes`, and any the volume answers only when asked by name, as
    /// ntfs-3g answers `system.ntfs_acl` without listing it.
    func extendedAttribute(named name: String, of node: UInt64) throws(VolumeError) -> [UInt8]?
    /// The byte ranges of a regular file that hold data; the rest are holes.
    func dataRanges(of node: UInt64) throws(VolumeError) -> [Range<UInt64>]
    /// Where a regular file's bytes lie on the volume (`FilePlacement`); read from metadata
    /// only, never from the file's data.
    func placement(of node: UInt64) throws(VolumeError) -> FilePlacement
    /// A file's named data streams besides its contents (NTFS alternate data streams; none on
    /// ext4), whatever their size: `extendedAttributes` carries only those Linux can hold.
    /// Each is also a node of its own, looked up as "FILE:STREAM" (never listed).
    func namedStreams(of node: UInt64) throws(VolumeError) -> [NamedStream]
}

extension Volume {
    public func extendedAttribute(named name: String, of node: UInt64) throws(VolumeError) -> [UInt8]? {
        try extendedAttributes(of: node).first { $0.name == name }?.value
    }
}

public struct NamedStream: Sendable, Equatable {
    public let name: String
    public let size: UInt64
    /// Whether `extendedAttributes` carries it, as `user.ntfs.stream.NAME`.
    public let isExtendedAttribute: Bool

    public init(name: String, size: UInt64, isExtendedAttribute: Bool) {
        self.name = name
        self.size = size
        self.isExtendedAttribute = isExtendedAttribute
    }
}

public enum NodeKind: String, Sendable, Codable {
    case regular, directory, symlink, blockDevice, characterDevice, fifo, socket

    /// The kind a Linux directory entry's file type byte names (ext2's EXT2_FT_*, XFS's
    /// XFS_DIR3_FT_*: the same codes); nil for 0 (unknown) and codes past 7.
    public init?(directoryFileType type: UInt8) {
        switch type {
        case 1: self = .regular
        case 2: self = .directory
        case 3: self = .characterDevice
        case 4: self = .blockDevice
        case 5: self = .fifo
        case 6: self = .socket
        case 7: self = .symlink
        default: return nil
        }
    }
}

/// Seconds and nanoseconds since the Unix epoch.
public struct Timestamp: Sendable, Equatable, Comparable {
    public let seconds: Int64
    public let nanoseconds: UInt32

    public init(seconds: Int64, nanoseconds: UInt32) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }
}

public struct NodeAttributes: Sendable, Equatable {
    public var node: UInt64
    public var kind: NodeKind
    /// Permission bits including setuid, setgid and sticky (07777).
    public var permissions: UInt16
    public var uid: UInt32
    public var gid: UInt32
    public var size: UInt64
    /// Bytes allocated on disk (what `du` and `st_blocks` report).
    public var allocatedBytes: UInt64
    public var linkCount: UInt32
    public var accessed: Timestamp
    public var modified: Timestamp
    public var changed: Timestamp
    public var created: Timestamp?
    /// Device number for block and character devices (Linux dev_t encoding), else 0.
    public var device: UInt64

    public init(node: UInt64, kind: NodeKind, permissions: UInt16, uid: UInt32, gid: UInt32, size: UInt64,
                allocatedBytes: UInt64, linkCount: UInt32, accessed: Timestamp, modified: Timestamp,
                changed: Timestamp, created: Timestamp?, device: UInt64) {
        self.node = node
        self.kind = kind
        self.permissions = permissions
        self.uid = uid
        self.gid = gid
        self.size = size
        self.allocatedBytes = allocatedBytes
        self.linkCount = linkCount
        self.accessed = accessed
        self.modified = modified
        self.changed = changed
        self.created = created
        self.device = device
    }
}

public struct DirectoryEntry: Sendable, Equatable {
    public let name: FileName
    public let node: UInt64
    public let kind: NodeKind

    public init(name: FileName, node: UInt64, kind: NodeKind) {
        self.name = name
        self.node = node
        self.kind = kind
    }
}

public struct ExtendedAttribute: Sendable, Equatable {
    public let name: String
    public let value: [UInt8]

    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }
}
