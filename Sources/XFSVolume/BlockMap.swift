import BlockDevices
import ByteParsing
import VolumeModel

/// One extent record (struct xfs_bmbt_rec): 128 big-endian bits holding the unwritten flag
/// (1), the first logical block (54), the first filesystem block (52) and the length (21).
struct ExtentRecord: Sendable {
    static let size = 16
    let logical: UInt64
    let fsBlock: UInt64
    let count: UInt64
    let unwritten: Bool

    static func decode(_ reader: ByteReader, at offset: Int) throws(ByteParsingError) -> ExtentRecord {
        let high: UInt64 = try reader.bigEndian(at: offset, "extent record")
        let low: UInt64 = try reader.bigEndian(at: offset + 8, "extent record")
        return ExtentRecord(logical: (high & ~(1 << 63)) >> 9, fsBlock: (high & 0x1FF) << 43 | low >> 21,
                            count: low & 0x1F_FFFF, unwritten: high >> 63 != 0)
    }
}

/// A fork's bytes in the inode and what the core says about them.
struct ForkBytes: Sendable {
    let bytes: [UInt8]
    let origin: UInt64
    let format: Inode.ForkFormat
    let extentCount: UInt64
    /// "data fork of inode 131", for error messages.
    let label: String
}

extension XFSVolume {
    /// The deepest block map B-tree XFS builds (XFS_BM_MAXLEVELS with 64-bit extent counts).
    static let maxBmbtLevels = 9

    /// The map of an extents or B-tree fork, in volume blocks: unwritten extents map to zeros.
    /// Records must be sorted and disjoint and number what the inode says.
    func blockMap(_ fork: ForkBytes, owner: UInt64) throws(VolumeError) -> RunMap {
        var builder = RunBuilder(volume: self, fork: fork)
        let reader = ByteReader(fork.bytes, origin: fork.origin)
        switch fork.format {
        case .extents:
            try parsing(fork.label, at: fork.origin) { () throws(ByteParsingError) in
                guard fork.extentCount <= UInt64(fork.bytes.count / ExtentRecord.size) else {
                    throw .invalid(what: "extent count", at: fork.origin, reason: "\(fork.extentCount) records do not fit the \(fork.bytes.count)-byte fork")
                }
                for index in 0 ..< Int(fork.extentCount) {
                    try builder.add(try ExtentRecord.decode(reader, at: index * ExtentRecord.size), at: fork.origin + UInt64(index * ExtentRecord.size))
                }
            }
        case .btree:
            // The root (struct xfs_bmdr_block): level, record count, then as many keys and
            // pointers as the fork has room for.
            var pending = try parsing(fork.label, at: fork.origin) { () throws(ByteParsingError) in
                let level = Int(try reader.bigEndian(at: 0, "B-tree root level") as UInt16)
                let count = Int(try reader.bigEndian(at: 2, "B-tree root record count") as UInt16)
                let room = (fork.bytes.count - 4) / 16
                guard (1 ... Self.maxBmbtLevels).contains(level), count >= 1, count <= room else {
                    throw .invalid(what: "B-tree root", at: fork.origin, reason: "level \(level) with \(count) records (room for \(room))")
                }
                var pending: [(fsBlock: UInt64, level: Int)] = []
                for index in (0 ..< count).reversed() {
                    pending.append((try reader.bigEndian(at: 4 + room * 8 + index * 8, "B-tree root pointer"), level - 1))
                }
                return pending
            }
            try walk(&pending, &builder, owner: owner, fork.label)
        case .device, .local:
            throw corrupt(fork.label, at: fork.origin, "the fork is not a block map")
        }
        guard builder.recordCount == fork.extentCount else {
            throw corrupt(fork.label, at: fork.origin, "the inode counts \(fork.extentCount) extents, the map holds \(builder.recordCount)")
        }
        do {
            return try RunMap(builder.runs, unitSize: UInt64(superblock.blockSize), unmapped: .zeros)
        } catch {
            throw corrupt(fork.label, at: fork.origin, "\(error)")
        }
    }

    /// Reads B-tree blocks depth first, leftmost first, so leaf records arrive in order.
    /// Every child sits one level below its parent, so a pointer cannot lead back up; a block
    /// reached twice repeats records and fails the order check.
    private func walk(_ pending: inout [(fsBlock: UInt64, level: Int)], _ builder: inout RunBuilder, owner: UInt64, _ label: String) throws(VolumeError) {
        let layout = MetadataBlock.bmbt
        let header = layout.headerSize(superblock)
        let blockSize = Int(superblock.blockSize)
        let room = (blockSize - header) / 16
        while let (fsBlock, level) = pending.popLast() {
            guard let block = superblock.volumeBlock(fsBlock) else {
                throw corrupt(label, "a B-tree pointer names block \(fsBlock), outside the filesystem")
            }
            let origin = block * UInt64(blockSize)
            let bytes = try readBytes(at: origin, count: blockSize, purpose: "\(layout.name) of \(label)")
            try parsing("\(layout.name) of \(label)", at: origin) { () throws(ByteParsingError) in
                try layout.check(bytes, volumeBlock: block, owner: owner, origin: origin, superblock)
                let reader = ByteReader(bytes, origin: origin)
                let storedLevel = Int(try reader.bigEndian(at: 4, "level") as UInt16)
                let count = Int(try reader.bigEndian(at: 6, "record count") as UInt16)
                guard storedLevel == level, count >= 1, count <= room else {
                    throw .invalid(what: "header", at: origin, reason: "level \(storedLevel) with \(count) records, expected level \(level) and 1 to \(room) records")
                }
                if level == 0 {
                    for index in 0 ..< count {
                        let at = header + index * ExtentRecord.size
                        try builder.add(try ExtentRecord.decode(reader, at: at), at: origin + UInt64(at))
                    }
                } else {
                    for index in (0 ..< count).reversed() {
                        pending.append((try reader.bigEndian(at: header + room * 8 + index * 8, "pointer"), level - 1))
                    }
                }
            }
        }
    }
}

/// Extent records turned into runs as they are read, checked for place and order.
private struct RunBuilder {
    let volume: XFSVolume
    let fork: ForkBytes
    var runs: [MappedRun] = []
    var recordCount: UInt64 = 0
    private var next: UInt64 = 0

    init(volume: XFSVolume, fork: ForkBytes) {
        self.volume = volume
        self.fork = fork
    }

    mutating func add(_ record: ExtentRecord, at position: UInt64) throws(ByteParsingError) {
        recordCount += 1
        guard recordCount <= fork.extentCount else {
            throw .invalid(what: "extent record", at: position, reason: "more extents than the \(fork.extentCount) the inode counts")
        }
        guard record.count > 0, record.logical >= next else {
            throw .invalid(what: "extent record", at: position, reason: "\(record.count) blocks at logical block \(record.logical), expected a non-empty extent from block \(next)")
        }
        guard let physical = volume.superblock.volumeBlock(record.fsBlock, count: record.count) else {
            throw .invalid(what: "extent record", at: position, reason: "\(record.count) blocks from block \(record.fsBlock) leave the filesystem or their AG")
        }
        next = record.logical + record.count
        runs.append(MappedRun(logical: record.logical, count: record.count, physical: record.unwritten ? nil : physical))
    }
}
