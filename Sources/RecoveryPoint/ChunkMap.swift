import ByteParsing

/// Which chunks of one disk are stored, and under which id. Indices missing from the map
/// are all-zero chunks (holes): never stored, read as zeros without I/O.
///
/// Kept as two flat arrays sorted by index: 40 bytes per stored chunk, no per-entry objects,
/// binary search per lookup. A 4 TiB sparse disk costs only its stored chunks.
public struct ChunkMap: Sendable, Equatable {
    public private(set) var indices: [UInt64] = []
    private var idBytes: [UInt8] = []

    public init() {}

    public var count: Int { indices.count }

    /// Appends an entry; indices must be added in strictly ascending order.
    public mutating func append(index: UInt64, id: ChunkID) {
        precondition(indices.last.map { $0 < index } ?? true, "chunk map entries must ascend")
        indices.append(index)
        idBytes.append(contentsOf: id.bytes)
    }

    /// The stored chunk at `index`, or nil for a hole.
    public func id(at index: UInt64) -> ChunkID? {
        var low = 0
        var high = indices.count
        while low < high {
            let mid = (low + high) / 2
            if indices[mid] < index { low = mid + 1 } else { high = mid }
        }
        guard low < indices.count, indices[low] == index else { return nil }
        return entryID(low)
    }

    public var entries: [(index: UInt64, id: ChunkID)] {
        indices.indices.map { (indices[$0], entryID($0)) }
    }

    private func entryID(_ position: Int) -> ChunkID {
        let start = position * ChunkID.size
        // Built only from ChunkID-sized appends or parse(): always a whole id.
        return ChunkID(uncheckedBytes: Array(idBytes[start ..< start + ChunkID.size]))
    }

    func serialize(into writer: inout ByteWriter) {
        writer.append(UInt64(indices.count))
        for position in indices.indices {
            writer.append(indices[position])
            writer.append(bytes: idBytes[position * ChunkID.size ..< (position + 1) * ChunkID.size])
        }
    }

    /// Parses one disk's map; `expectedCount` comes from the header and bounds the allocation.
    static func parse(_ reader: inout ByteReader, chunkCount: UInt64, expectedCount: UInt64) throws(ByteParsingError) -> ChunkMap {
        let count = try reader.u64("chunk map entry count")
        guard count == expectedCount else {
            throw .invalid(what: "chunk map entry count", at: reader.origin + UInt64(reader.offset - 8),
                           reason: "map holds \(count) entries, header says \(expectedCount)")
        }
        let entrySize = 8 + ChunkID.size
        guard count <= UInt64(reader.remaining / entrySize) else {
            throw .truncated(what: "chunk map", at: reader.origin + UInt64(reader.offset), needed: Int(clamping: count) * entrySize, available: reader.remaining)
        }
        var map = ChunkMap()
        map.indices.reserveCapacity(Int(count))
        map.idBytes.reserveCapacity(Int(count) * ChunkID.size)
        for _ in 0 ..< count {
            let at = reader.origin + UInt64(reader.offset)
            let index = try reader.u64("chunk index")
            guard index < chunkCount else {
                throw .invalid(what: "chunk index", at: at, reason: "\(index) is past the disk's \(chunkCount) chunks")
            }
            if let last = map.indices.last, index <= last {
                throw .invalid(what: "chunk index", at: at, reason: "\(index) does not ascend (after \(last))")
            }
            map.indices.append(index)
            map.idBytes.append(contentsOf: try reader.bytes(ChunkID.size, "chunk id"))
        }
        return map
    }
}
