import BlockDevices
import ByteParsing

/// A thin pool's metadata device, in the device-mapper persistent-data format
/// (drivers/md/dm-thin-metadata.c, persistent-data/dm-btree-internal.h): 4 KiB blocks; the
/// superblock in block 0 holds the root of the data mapping, a two-level B-tree: thin device
/// id → root of that device's tree, virtual block → (data block << 24 | time). Every block
/// read is checked: its CRC-32C, the block number it records, its entry counts.
struct ThinPoolMetadata: Sendable {
    static let blockSize = 4096
    static let superblockMagic: UInt64 = 27_022_010
    static let superblockChecksumXOR: UInt32 = 160_774
    static let nodeChecksumXOR: UInt32 = 121_107
    static let internalNode: UInt32 = 1
    static let leafNode: UInt32 = 2
    static let nodeHeaderSize = 32
    /// Deeper than any tree over 2^64 keys with the smallest nodes: a loop in hostile metadata.
    static let maxDepth = 16

    let device: any BlockDevice
    let mappingRoot: UInt64
    /// Bytes per data block, from the superblock.
    let dataBlockSize: UInt64

    init(_ device: any BlockDevice) throws(LVMError) {
        self.device = device
        let block = try Self.block(device, 0, xor: Self.superblockChecksumXOR)
        do throws(ByteParsingError) {
            let reader = ByteReader(block)
            let magic: UInt64 = try reader.integer(at: 32, "thin superblock magic")
            guard magic == Self.superblockMagic else {
                throw .invalid(what: "thin superblock magic", at: 32, reason: "\(magic), not \(Self.superblockMagic)")
            }
            mappingRoot = try reader.integer(at: 320, "data mapping root")
            let sectors: UInt32 = try reader.integer(at: 336, "data block size")
            let metadataSectors: UInt32 = try reader.integer(at: 340, "metadata block size")
            guard metadataSectors == UInt32(Self.blockSize / 512) else {
                throw .invalid(what: "metadata block size", at: 340, reason: "\(metadataSectors) sectors, not 8")
            }
            guard sectors > 0 else { throw .invalid(what: "data block size", at: 336, reason: "0") }
            dataBlockSize = UInt64(sectors) * 512
        } catch {
            throw .label(error)
        }
    }

    /// The root of thin device `id`'s mapping tree, nil when the pool has no such device.
    func deviceRoot(_ id: UInt64) throws(LVMError) -> UInt64? {
        try lookup(id, in: mappingRoot)
    }

    /// The value stored under `key` in the tree rooted at block `root`.
    func lookup(_ key: UInt64, in root: UInt64) throws(LVMError) -> UInt64? {
        var block = root
        for _ in 0 ..< Self.maxDepth {
            let node = try Self.block(device, block, xor: Self.nodeChecksumXOR)
            do throws(ByteParsingError) {
                let reader = ByteReader(node, origin: block &* UInt64(Self.blockSize))
                let flags: UInt32 = try reader.integer(at: 4, "B-tree node flags")
                let count = Int(try reader.integer(at: 16, "B-tree entries") as UInt32)
                let capacity = Int(try reader.integer(at: 20, "B-tree capacity") as UInt32)
                let valueSize = Int(try reader.integer(at: 24, "B-tree value size") as UInt32)
                // Both levels of the data mapping hold 8-byte values.
                guard count <= capacity, valueSize == 8, Self.nodeHeaderSize + capacity * (8 + valueSize) <= Self.blockSize
                else {
                    throw .invalid(what: "B-tree node", at: reader.origin, reason: "\(count) of \(capacity) entries of \(valueSize) bytes do not fit a block")
                }
                // The last key not above `key` (keys are sorted); none: `key` is not in the tree.
                var low = 0
                var high = count
                while low < high {
                    let middle = (low + high) / 2
                    let probe: UInt64 = try reader.integer(at: Self.nodeHeaderSize + middle * 8, "B-tree key")
                    if probe <= key { low = middle + 1 } else { high = middle }
                }
                guard low > 0 else { return nil }
                let index = low - 1
                let found: UInt64 = try reader.integer(at: Self.nodeHeaderSize + index * 8, "B-tree key")
                let value: UInt64 = try reader.integer(at: Self.nodeHeaderSize + capacity * 8 + index * valueSize, "B-tree value")
                if flags & Self.leafNode != 0 { return found == key ? value : nil }
                guard flags & Self.internalNode != 0 else {
                    throw .invalid(what: "B-tree node flags", at: reader.origin + 4, reason: "neither internal nor leaf")
                }
                block = value
            } catch {
                throw .label(error)
            }
        }
        throw .metadata("thin pool B-tree deeper than \(Self.maxDepth) levels", line: nil)
    }

    /// Metadata block `number`, its checksum and self-reference checked.
    static func block(_ device: some BlockDevice, _ number: UInt64, xor: UInt32) throws(LVMError) -> [UInt8] {
        let (offset, overflow) = number.multipliedReportingOverflow(by: UInt64(blockSize))
        let bytes: [UInt8]
        do throws(DiskReadError) {
            guard !overflow else { throw DiskReadError.outOfRange(offset: .max, count: blockSize, size: device.size) }
            try device.checkRange(offset, blockSize)
            bytes = try device.read(at: offset, count: blockSize)
        } catch {
            throw .device(error)
        }
        do throws(ByteParsingError) {
            let reader = ByteReader(bytes, origin: offset)
            let stored: UInt32 = try reader.integer(at: 0, "metadata block checksum")
            // dm_bm_checksum: the CRC-32C register over the rest of the block, XORed with a
            // constant per block kind.
            let computed = ~CRC32C.checksum(bytes[4...]) ^ xor
            guard stored == computed else {
                throw .invalid(what: "thin metadata block \(number) checksum", at: offset,
                               reason: "is 0x\(String(stored, radix: 16)), the block gives 0x\(String(computed, radix: 16))")
            }
            let recorded: UInt64 = try reader.integer(at: 8, "metadata block number")
            guard recorded == number else {
                throw .invalid(what: "metadata block number", at: offset + 8, reason: "records \(recorded)")
            }
            return bytes
        } catch {
            throw .label(error)
        }
    }
}

/// A thin LV: virtual blocks mapped through the pool's metadata to its data device; blocks
/// the pool never wrote read as zeros.
struct ThinDevice: BlockDevice {
    let metadata: ThinPoolMetadata
    let root: UInt64
    let data: any BlockDevice
    let size: UInt64

    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DiskReadError) {
        try checkRange(offset, buffer.count)
        let blockSize = metadata.dataBlockSize
        try forEachBlockPiece(at: offset, of: buffer, blockSize: blockSize) { block, within, piece throws(DiskReadError) in
            let mapped: UInt64?
            do throws(LVMError) {
                mapped = try metadata.lookup(block, in: root)
            } catch {
                throw .source(LogicalVolumeFault(error: error))
            }
            guard let mapped else {
                piece.initializeMemory(as: UInt8.self, repeating: 0)
                return
            }
            // The data block is the value's upper 40 bits; the lower 24 are a time.
            let (start, overflow) = (mapped >> 24).multipliedReportingOverflow(by: blockSize)
            let (at, past) = start.addingReportingOverflow(within)
            guard !overflow, !past else { throw .outOfRange(offset: .max, count: piece.count, size: data.size) }
            try data.read(at: at, into: piece)
        }
    }
}
