import PointNamespace
import VolumeModel

/// One path of a point as its catalog records it: a file, directory or link of a volume, a
/// disk or volume directory, or a volume that cannot be read (with `problem` saying why).
public struct CatalogEntry: Sendable, Equatable {
    /// The full path in the point's tree ("/disk0/part1/etc/hostname").
    public var path: String
    public var kind: NodeKind
    public var permissions: UInt16
    public var uid: UInt32
    public var gid: UInt32
    public var size: UInt64
    /// The volume's own node number (ext inode, NTFS record); 0 outside volumes.
    public var node: UInt64
    public var linkCount: UInt32
    public var accessed: Timestamp
    public var modified: Timestamp
    public var changed: Timestamp
    public var created: Timestamp?
    /// Names below this entry's directory differ by case (ext4) or not (NTFS): how patterns match it.
    public var caseSensitive: Bool
    public var symlinkTarget: [UInt8]
    /// A keyed hash of the extended attributes (names and values, in order); empty for none.
    public var attributesDigest: [UInt8]
    /// Where a regular file's bytes are; nil for anything else or a file that could not be placed.
    public var content: CatalogContent?
    /// Why part of this entry could not be read (a volume that is refused or unsupported, a
    /// directory that cannot be listed, a file whose data cannot be placed).
    public var problem: String?

    public init(path: String, kind: NodeKind) {
        self.path = path
        self.kind = kind
        permissions = 0
        uid = 0
        gid = 0
        size = 0
        node = 0
        linkCount = 0
        accessed = Timestamp(seconds: 0, nanoseconds: 0)
        modified = accessed
        changed = accessed
        created = nil
        caseSensitive = true
        symlinkTarget = []
        attributesDigest = []
        content = nil
        problem = nil
    }

    /// The last component of the path.
    public var name: Substring {
        guard let slash = path.utf8.lastIndex(of: 0x2F) else { return path[...] }
        return path[path.utf8.index(after: slash)...]
    }
}

/// Where a regular file's bytes lie in its point's chunks: the content fingerprint.
public struct CatalogContent: Sendable, Equatable {
    public var encoding: FilePlacement.Encoding
    /// A keyed hash of the bytes kept in metadata (inline or resident data); empty for none.
    public var inlineDigest: [UInt8]
    public var pieces: [ChunkPiece]

    public init(encoding: FilePlacement.Encoding, inlineDigest: [UInt8], pieces: [ChunkPiece]) {
        self.encoding = encoding
        self.inlineDigest = inlineDigest
        self.pieces = pieces
    }
}
