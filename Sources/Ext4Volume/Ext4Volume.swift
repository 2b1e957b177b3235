import BlockDevices
import Synchronization
import VolumeModel

/// An ext2, ext3 or ext4 volume, read-only, through libext2fs.
///
/// Metadata (inodes, directories, extent trees, extended attributes) is read by libext2fs
/// through an I/O manager over the `BlockDevice`; every libext2fs call runs under one lock,
/// because one handle is not safe to share between threads. File data does not go through
/// libext2fs: each file's block map is built once (and cached), then its bytes are read
/// straight from the device in pieces as large as its extents, outside the lock, so many
/// threads read data at once. Holes and uninitialized extents read as zeros.
///
/// Nothing is ever written: the I/O manager refuses writes and a journal that needs
/// recovery is not replayed (the volume is shown as it stands; `info.needsRecovery` says so).
public final class Ext4Volume: Volume {
    /// EXT2_ROOT_INO.
    public static let rootInode: UInt64 = 2
    /// Longest symlink target accepted (the kernel stops at a block; PATH_MAX is 4096).
    static let maxSymlinkLength: UInt64 = 65536

    public let info: Ext4Info
    /// Names the volume in every error message ("disk0/p2").
    public let name: String
    public var rootNode: UInt64 { Self.rootInode }
    public let notes: [String]

    private let device: any BlockDevice
    private let filesystem: Mutex<Ext2Filesystem>
    private let blockSize: UInt64
    private let inodeCount: UInt64
    /// Block maps of regular files, bounded by file count and by total runs (~32 bytes each).
    private let layouts = Mutex(BoundedCache<UInt64, FileLayout>(maxCount: 1024, maxWeight: 1 << 20))
    /// Directory listings with a name index, bounded by directory count and total entries
    /// (~150 bytes each). A directory larger than the whole bound is listed again per lookup.
    private let listings = Mutex(BoundedCache<UInt64, DirectoryListing>(maxCount: 256, maxWeight: 1 << 18))

    private init(device: any BlockDevice, filesystem: sending Ext2Filesystem, info: Ext4Info, name: String, notes: [String]) {
        self.device = device
        self.notes = notes
        self.info = info
        self.name = name
        blockSize = UInt64(filesystem.blockSize)
        inodeCount = UInt64(filesystem.superblock.inodeCount)
        self.filesystem = Mutex(filesystem)
    }

    /// Opens the ext2/3/4 volume on `device` (a whole partition), read-only. `name` labels
    /// the volume in error messages. `superblockCopy`: open from that backup superblock and
    /// its group descriptors, because the primary ones cannot be read.
    public static func open(_ device: any BlockDevice, name: String, superblockCopy: SuperblockCopy? = nil) throws(VolumeError) -> Ext4Volume {
        let filesystem = try Ext2Filesystem.open(device: device, name: name, superblockCopy: superblockCopy)
        let info = filesystem.superblock.info
        let notes = superblockCopy.map { ["\(name): read through the backup superblock at block \($0.block) (the primary cannot be read)"] } ?? []
        let volume = Ext4Volume(device: device, filesystem: filesystem, info: info, name: name, notes: notes)
        // Everything hangs off the root: a volume whose root is unreadable is refused now.
        let root = try volume.attributes(of: rootInode)
        guard root.kind == .directory else {
            throw .corrupt(volume: name, structure: "inode \(rootInode)", problem: "the root is a \(root.kind.rawValue), not a directory")
        }
        return volume
    }

    /// Runs `body` with the libext2fs handle, under the volume's lock.
    private func locked<T: Sendable>(_ body: (Ext2Filesystem) throws(VolumeError) -> T) throws(VolumeError) -> T {
        try filesystem.withLock { filesystem throws(VolumeError) -> T in try body(filesystem) }
    }

    // MARK: - Volume

    public func attributes(of node: UInt64) throws(VolumeError) -> NodeAttributes {
        let inode = try locked { filesystem throws(VolumeError) in try filesystem.inode(node) }
        return inode.attributes(kind: try kind(of: inode))
    }

    public func entries(of directory: UInt64) throws(VolumeError) -> [DirectoryEntry] {
        try listing(of: directory).entries
    }

    public func lookup(_ name: FileName, in directory: UInt64) throws(VolumeError) -> UInt64 {
        let listing = try listing(of: directory)
        if let index = listing.index[name] { return listing.entries[index].node }
        if listing.casefolded {
            // A casefold directory matches names the way the guest kernel does.
            let entries = listing.entries
            let match = try locked { filesystem in
                entries.first { filesystem.casefoldEqual($0.name.bytes, name.bytes) }?.node
            }
            if let match { return match }
        }
        throw .notFound("\(self.name): '\(name)' in directory inode \(directory)")
    }

    public func read(_ node: UInt64, at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(VolumeError) -> Int {
        try read(try layout(of: node), of: node, at: offset, into: buffer)
    }

    public func symlinkTarget(of node: UInt64) throws(VolumeError) -> [UInt8] {
        let layout = try locked { filesystem throws(VolumeError) -> FileLayout in
            let inode = try filesystem.inode(node)
            let kind = try kind(of: inode)
            guard kind == .symlink else { throw .notASymlink("\(name): inode \(node) is a \(kind.rawValue)") }
            guard !inode.isEncrypted else { throw encrypted(inode, "symbolic link") }
            guard inode.size <= Self.maxSymlinkLength else {
                throw .corrupt(volume: name, structure: "symbolic link inode \(node)", problem: "claims a \(inode.size)-byte target")
            }
            if inode.hasInlineData {
                return FileLayout(size: inode.size, storage: .inline(try filesystem.inlineData(of: node)))
            }
            // As the kernel decides: a symlink whose blocks are all accounted for by an
            // extended-attribute block (or that has none) keeps its target in i_block.
            let attributeSectors: UInt64 = inode.fileACLBlock != 0 ? blockSize / 512 : 0
            if inode.sectors <= attributeSectors {
                guard inode.size < UInt64(Inode.blockArraySize) else {
                    throw .corrupt(volume: name, structure: "symbolic link inode \(node)", problem: "has no blocks but a \(inode.size)-byte target")
                }
                return FileLayout(size: inode.size, storage: .inline(Array(inode.blockArray.prefix(Int(inode.size)))))
            }
            return FileLayout(size: inode.size, storage: try blockMap(filesystem, inode))
        }
        var target = [UInt8](repeating: 0, count: Int(layout.size))
        let count = try target.withUnsafeMutableBytes { buffer in
            Result { () throws(VolumeError) in try read(layout, of: node, at: 0, into: buffer) }
        }.get()
        return Array(target.prefix(count))
    }

    public func extendedAttributes(of node: UInt64) throws(VolumeError) -> [ExtendedAttribute] {
        let raw = try locked { filesystem throws(VolumeError) in
            _ = try kind(of: filesystem.inode(node))
            return try filesystem.extendedAttributes(of: node).map { ExtendedAttribute(name: String(decoding: $0.name, as: UTF8.self), value: $0.value) }
        }
        var listed: [ExtendedAttribute] = []
        for attribute in raw where Self.isListed(attribute.name) {
            if Ext4ACL.names.contains(attribute.name) {
                let value = try Ext4ACL.xattrValue(fromDisk: attribute.value, volume: name, structure: "inode \(node)", name: attribute.name)
                listed.append(ExtendedAttribute(name: attribute.name, value: value))
            } else {
                listed.append(attribute)
            }
        }
        return listed.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    public func dataRanges(of node: UInt64) throws(VolumeError) -> [Range<UInt64>] {
        let layout = try layout(of: node)
        switch layout.storage {
        case let .inline(bytes):
            // What the inode stores; past it (an i_size larger than the inline area) reads as zeros.
            let end = min(layout.size, UInt64(bytes.count))
            return end > 0 ? [0 ..< end] : []
        case let .runs(map):
            return map.dataRanges(below: layout.size)
        }
    }

    // MARK: - Names that the kernel lists

    /// The attribute namespaces Linux's ext4 lists (and a restore can set). libext2fs also
    /// returns "system.data" (inline data) and the fscrypt context under no prefix at all.
    static func isListed(_ name: String) -> Bool {
        name.hasPrefix("user.") || name.hasPrefix("trusted.") || name.hasPrefix("security.")
            || name == "system.posix_acl_access" || name == "system.posix_acl_default"
    }

    // MARK: - Inodes

    private func kind(of inode: Inode) throws(VolumeError) -> NodeKind {
        guard inode.mode != 0 else { throw .corrupt(volume: name, structure: "inode \(inode.number)", problem: "is not in use (mode 0)") }
        guard let kind = inode.kind else {
            throw .corrupt(volume: name, structure: "inode \(inode.number)", problem: "has no valid file type (mode 0o\(String(inode.mode, radix: 8)))")
        }
        guard inode.linkCount > 0 else { throw .corrupt(volume: name, structure: "inode \(inode.number)", problem: "is deleted (link count 0)") }
        return kind
    }

    private func encrypted(_ inode: Inode, _ what: String) -> VolumeError {
        .refused("\(name): \(what) inode \(inode.number) is encrypted with fscrypt (ext4 encryption); its names and contents are ciphertext and cannot be shown without the guest's key")
    }

    // MARK: - Directories

    private func listing(of node: UInt64) throws(VolumeError) -> DirectoryListing {
        if let cached = listings.withLock({ $0.value(for: node) }) { return cached }
        let listing = try locked { filesystem throws(VolumeError) -> DirectoryListing in
            let inode = try filesystem.inode(node)
            let kind = try kind(of: inode)
            guard kind == .directory else { throw .notADirectory("\(name): inode \(node) is a \(kind.rawValue)") }
            guard !inode.isEncrypted else { throw encrypted(inode, "directory") }
            var entries: [DirectoryEntry] = []
            var index: [FileName: Int] = [:]
            for raw in try filesystem.directoryEntries(of: inode) {
                if raw.name == [0x2E] || raw.name == [0x2E, 0x2E] { continue }
                guard FileName.isValid(raw.name), let fileName = try? FileName(validating: raw.name) else {
                    throw .corrupt(volume: name, structure: "directory inode \(node)", problem: "holds an invalid name \(Self.escaped(raw.name)) (empty, NUL or '/' in it)")
                }
                guard raw.inode >= 1, UInt64(raw.inode) <= inodeCount else {
                    throw .corrupt(volume: name, structure: "directory inode \(node)", problem: "entry \(Self.escaped(raw.name)) names inode \(raw.inode), outside 1...\(inodeCount)")
                }
                let entryKind: NodeKind
                if let stored = NodeKind(directoryFileType: raw.fileType) {
                    entryKind = stored
                } else {
                    entryKind = try self.kind(of: filesystem.inode(UInt64(raw.inode)))
                }
                if index[fileName] == nil { index[fileName] = entries.count }
                entries.append(DirectoryEntry(name: fileName, node: UInt64(raw.inode), kind: entryKind))
            }
            return DirectoryListing(entries: entries, index: index,
                                    casefolded: inode.isCasefolded && filesystem.hasCasefoldEncoding)
        }
        listings.withLock { $0.insert(listing, for: node, weight: listing.entries.count) }
        return listing
    }


    /// A name from disk for an error message: printable ASCII as is, other bytes as \xNN.
    static func escaped(_ bytes: [UInt8]) -> String {
        var text = "'"
        for byte in bytes {
            if byte >= 0x20, byte < 0x7F, byte != 0x5C, byte != 0x27 {
                text.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                text += "\\x" + String(byte, radix: 16, uppercase: false).leftPadded(to: 2)
            }
        }
        return text + "'"
    }

    // MARK: - File data

    /// The block map of a regular file, from the cache or built under the lock.
    func layout(of node: UInt64) throws(VolumeError) -> FileLayout {
        if let cached = layouts.withLock({ $0.value(for: node) }) { return cached }
        let layout = try locked { filesystem throws(VolumeError) -> FileLayout in
            let inode = try filesystem.inode(node)
            let kind = try kind(of: inode)
            switch kind {
            case .regular:
                break
            case .directory:
                throw .isADirectory("\(name): inode \(node)")
            case .symlink, .blockDevice, .characterDevice, .fifo, .socket:
                throw .unsupported("\(name): inode \(node) is a \(kind.rawValue): it has no file data to read")
            }
            guard !inode.isEncrypted else { throw encrypted(inode, "file") }
            if inode.hasInlineData {
                return FileLayout(size: inode.size, storage: .inline(try filesystem.inlineData(of: node)))
            }
            return FileLayout(size: inode.size, storage: try blockMap(filesystem, inode))
        }
        layouts.withLock { $0.insert(layout, for: node, weight: layout.weight) }
        return layout
    }

    private func blockMap(_ filesystem: Ext2Filesystem, _ inode: Inode) throws(VolumeError) -> FileLayout.Storage {
        let runs = inode.usesExtents ? try filesystem.extentRuns(of: inode) : try filesystem.indirectRuns(of: inode)
        do {
            // Blocks no extent maps are holes; uninitialized extents read as zeros too.
            return .runs(try RunMap(runs.map { MappedRun(logical: $0.logical, count: $0.count, physical: $0.initialized ? $0.physical : nil) },
                                    unitSize: blockSize, unmapped: .zeros))
        } catch {
            throw .corrupt(volume: name, structure: "block map of inode \(inode.number)", problem: "\(error)")
        }
    }

    /// Copies file bytes from `offset` into `buffer`: straight from the device for mapped
    /// blocks, in one read per contiguous run; zeros for holes and uninitialized extents.
    private func read(_ layout: FileLayout, of node: UInt64, at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(VolumeError) -> Int {
        guard offset < layout.size, buffer.count > 0 else { return 0 }
        let count = Int(min(UInt64(buffer.count), layout.size - offset))
        let end = offset + UInt64(count)
        switch layout.storage {
        case let .inline(bytes):
            let copyEnd = min(end, UInt64(bytes.count))
            var copied = 0
            if offset < copyEnd {
                let from = Int(offset)
                let to = Int(copyEnd)
                bytes.withUnsafeBytes { source in
                    buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[from ..< to]))
                }
                copied = to - from
            }
            UnsafeMutableRawBufferPointer(rebasing: buffer[copied ..< count]).initializeMemory(as: UInt8.self, repeating: 0)
        case let .runs(map):
            try map.read(at: offset, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0 ..< count]), from: device,
                         volume: name, what: "inode \(node)")
        }
        return count
    }
}

/// Where a file's bytes are: a block map, or the inode itself (inline data, fast symlinks).
struct FileLayout: Sendable {
    enum Storage: Sendable {
        case runs(RunMap)
        case inline([UInt8])
    }

    let size: UInt64
    let storage: Storage

    /// What the layout costs the cache, in runs.
    var weight: Int {
        switch storage {
        case let .runs(map): map.runs.count + 1
        case let .inline(bytes): bytes.count / 32 + 1
        }
    }
}

/// A directory's entries in on-disk order and an index from name to first entry.
struct DirectoryListing: Sendable {
    let entries: [DirectoryEntry]
    let index: [FileName: Int]
    /// The directory folds case (casefold feature and flag): lookups fall back to the
    /// volume's Unicode casefolding.
    let casefolded: Bool
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
