import ByteParsing
import VolumeModel

extension XFSVolume {
    public func symlinkTarget(of node: UInt64) throws(VolumeError) -> [UInt8] {
        let file = try file(node)
        guard file.kind == .symlink else { throw .notASymlink("\(name): inode \(node) is a \(file.kind.rawValue)") }
        let inode = file.inode
        let label = "symbolic link inode \(node)"
        guard inode.size > 0, inode.size <= UInt64(Self.maxSymlinkTarget) else {
            throw corrupt(label, "a target of \(inode.size) bytes (1 to \(Self.maxSymlinkTarget) allowed)")
        }
        let size = Int(inode.size)
        guard let map = file.map else {
            guard size <= inode.dataFork.count else { throw corrupt(label, at: inode.dataForkOrigin, "a \(size)-byte target in a \(inode.dataFork.count)-byte fork") }
            return Array(inode.dataFork.prefix(size))
        }
        return try remoteTarget(map, size: size, owner: node, label: label)
    }

    /// A target stored in blocks: on v5 each extent (one buffer to the kernel) starts with a
    /// header giving the target's offset and byte count in it, its CRC covering the extent.
    private func remoteTarget(_ map: RunMap, size: Int, owner: UInt64, label: String) throws(VolumeError) -> [UInt8] {
        let layout = MetadataBlock.symlink
        let header = layout.headerSize(superblock)
        let blockSize = UInt64(superblock.blockSize)
        var target: [UInt8] = []
        var nextBlock: UInt64 = 0
        for run in map.runs where target.count < size {
            // A target of at most 1024 bytes takes at most 3 blocks (XFS_SYMLINK_MAPS).
            guard let physical = run.physical, run.logical == nextBlock, run.count <= 3 else {
                throw corrupt(label, "its \(size) bytes are not stored in order in at most 3 blocks")
            }
            nextBlock += run.count
            let origin = physical * blockSize
            let bytes = try readBytes(at: origin, count: Int(run.count * blockSize), purpose: "\(layout.name) of \(label)")
            let count = min(bytes.count - header, size - target.count)
            try parsing("\(layout.name) of \(label)", at: origin) { () throws(ByteParsingError) in
                try layout.check(bytes, volumeBlock: physical, owner: owner, origin: origin, superblock)
                try checkRemoteHeader(bytes, origin: origin, offset: target.count, count: count)
            }
            target += bytes[header ..< header + count]
        }
        guard target.count == size else { throw corrupt(label, "its blocks hold \(target.count) of its \(size) bytes") }
        return target
    }

    /// A value stored in whole blocks from logical block `first` of the attribute fork. On v5
    /// each block starts with a header giving the value's offset and byte count in it.
    func remoteValue(_ map: RunMap, first: UInt64, size: Int, owner: UInt64, label: String) throws(VolumeError) -> [UInt8] {
        let layout = MetadataBlock.remoteValue
        let blockSize = Int(superblock.blockSize)
        let header = layout.headerSize(superblock)
        var value: [UInt8] = []
        value.reserveCapacity(size)
        var block = first
        // Each block adds at least `blockSize - header` bytes until the value is complete.
        while value.count < size {
            guard let origin = map.deviceOffset(of: block * UInt64(blockSize)) else {
                throw corrupt(label, "block \(block) of its value is not stored")
            }
            let bytes = try readBytes(at: origin, count: blockSize, purpose: "\(layout.name) of \(label)")
            let count = min(blockSize - header, size - value.count)
            try parsing("\(layout.name) of \(label)", at: origin) { () throws(ByteParsingError) in
                try layout.check(bytes, volumeBlock: origin / UInt64(blockSize), owner: owner, origin: origin, superblock)
                try checkRemoteHeader(bytes, origin: origin, offset: value.count, count: count)
            }
            value += bytes[header ..< header + count]
            block += 1
        }
        return value
    }

    /// The v5 remote header's offset and byte count (struct xfs_dsymlink_hdr and
    /// xfs_attr3_rmt_hdr share them) must say what the reader expects next.
    private func checkRemoteHeader(_ bytes: [UInt8], origin: UInt64, offset: Int, count: Int) throws(ByteParsingError) {
        guard superblock.isV5 else { return }
        let reader = ByteReader(bytes, origin: origin)
        let storedOffset: UInt32 = try reader.bigEndian(at: 4, "value offset")
        let stored: UInt32 = try reader.bigEndian(at: 8, "value bytes")
        guard storedOffset == offset, stored == count else {
            throw .invalid(what: "header", at: origin, reason: "\(stored) bytes at byte \(storedOffset), expected \(count) at \(offset)")
        }
    }
}
