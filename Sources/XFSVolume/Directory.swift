import BlockDevices
import ByteParsing
import Synchronization
import VolumeModel

/// A directory's entries, in on-disk order, with an index by name.
struct DirectoryListing: Sendable {
    let entries: [DirectoryEntry]
    let byName: [FileName: Int]
}

extension XFSVolume {
    /// Directory data blocks lie below this byte of the directory (XFS_DIR2_LEAF_OFFSET);
    /// the hash leaves and free-space blocks above it are indexes this reader does not need.
    static let directoryDataSpace: UInt64 = 32 << 30

    public func entries(of directory: UInt64) throws(VolumeError) -> [DirectoryEntry] {
        try listing(of: directory).entries
    }

    public func lookup(_ name: FileName, in directory: UInt64) throws(VolumeError) -> UInt64 {
        let listing = try listing(of: directory)
        guard let index = listing.byName[name] else { throw .notFound("\(self.name): '\(name)' in directory inode \(directory)") }
        return listing.entries[index].node
    }

    func listing(of node: UInt64) throws(VolumeError) -> DirectoryListing {
        try listings.value(for: node, weight: { $0.entries.count + 1 }) { () throws(VolumeError) in try buildListing(node) }
    }

    private func buildListing(_ node: UInt64) throws(VolumeError) -> DirectoryListing {
        let file = try file(node)
        guard file.kind == .directory else { throw .notADirectory("\(name): inode \(node) is a \(file.kind.rawValue)") }
        let raw = try rawEntries(file)
        var entries: [DirectoryEntry] = []
        var byName: [FileName: Int] = [:]
        entries.reserveCapacity(raw.count)
        for entry in raw where entry.name != [0x2E] && entry.name != [0x2E, 0x2E] {
            let structure = "directory inode \(node)"
            let fileName: FileName
            do {
                fileName = try FileName(validating: entry.name)
            } catch {
                throw corrupt(structure, "an entry named '\(String(decoding: entry.name, as: UTF8.self))': \(error)")
            }
            guard entry.inode < 1 << Self.nodeBits, superblock.inodeOffset(entry.inode) != nil else {
                throw corrupt(structure, "'\(fileName)' names inode \(entry.inode), outside the filesystem")
            }
            guard byName[fileName] == nil else { throw corrupt(structure, "'\(fileName)' appears twice") }
            byName[fileName] = entries.count
            entries.append(DirectoryEntry(name: fileName, node: entry.inode, kind: try kind(of: entry, in: structure)))
        }
        return DirectoryListing(entries: entries, byName: byName)
    }

    /// The kind the entry's file type says; the inode's own when none is stored.
    private func kind(of entry: RawDirectoryEntry, in structure: String) throws(VolumeError) -> NodeKind {
        if entry.fileType == 0 { return try file(entry.inode).kind }
        guard let kind = NodeKind(directoryFileType: entry.fileType) else {
            throw corrupt(structure, "'\(String(decoding: entry.name, as: UTF8.self))' has file type \(entry.fileType)")
        }
        return kind
    }

    /// Every entry, "." and ".." included where stored: from the inode (short form) or from
    /// each data block in order (block, leaf, node and B-tree directories alike).
    private func rawEntries(_ file: XFSFile) throws(VolumeError) -> [RawDirectoryEntry] {
        let inode = file.inode
        let label = "directory inode \(inode.number)"
        guard let map = file.map else {
            return try parsing(label, at: inode.dataForkOrigin) { () throws(ByteParsingError) in
                try DirectoryShortForm.entries(inode.dataFork, size: inode.size, origin: inode.dataForkOrigin, hasFileType: superblock.hasFileType)
            }
        }
        let blockSize = UInt64(superblock.directoryBlockSize)
        guard inode.size <= Self.directoryDataSpace, inode.size % blockSize == 0 else {
            throw corrupt(label, "a size of \(inode.size) bytes is no whole number of \(blockSize)-byte directory blocks below 32 GiB")
        }
        let isSingleBlock = inode.size == blockSize
        let layout = isSingleBlock ? MetadataBlock.directoryBlock : MetadataBlock.directoryData
        var entries: [RawDirectoryEntry] = []
        for index in try directoryBlocks(map, below: inode.size / blockSize, label) {
            let offset = index * blockSize
            guard let origin = map.deviceOffset(of: offset) else { throw corrupt(label, "directory block \(index) is unwritten") }
            var bytes = [UInt8](repeating: 0, count: Int(blockSize))
            try bytes.withUnsafeMutableBytes { buffer in
                Result { () throws(VolumeError) in try map.read(at: offset, into: buffer, from: device, volume: name, what: "\(layout.name) of \(label)") }
            }.get()
            entries += try parsing("\(layout.name) \(index) of \(label)", at: origin) { () throws(ByteParsingError) in
                try layout.check(bytes, volumeBlock: origin / UInt64(superblock.blockSize), owner: inode.number, origin: origin, superblock)
                return try DirectoryDataBlock.entries(bytes, origin: origin, headerSize: layout.headerSize(superblock),
                                                      isSingleBlock: isSingleBlock, hasFileType: superblock.hasFileType)
            }
        }
        return entries
    }

    /// The directory blocks below `limit` that the map stores, in order: a directory block
    /// may span several extents, and a freed one leaves a hole. A directory cannot have more
    /// blocks than the filesystem, however its extents overlap.
    private func directoryBlocks(_ map: RunMap, below limit: UInt64, _ label: String) throws(VolumeError) -> [UInt64] {
        let perBlock = UInt64(superblock.directoryBlockSize / superblock.blockSize)
        let most = superblock.dataBlocks / perBlock
        var blocks: [UInt64] = []
        for run in map.runs {
            var index = run.logical / perBlock
            while index * perBlock < run.end, index < limit {
                if blocks.last != index { blocks.append(index) }
                guard UInt64(blocks.count) <= most else {
                    throw corrupt(label, "maps more directory blocks than the filesystem's \(superblock.dataBlocks) blocks hold")
                }
                index += 1
            }
        }
        return blocks
    }
}
