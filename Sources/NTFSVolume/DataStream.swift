import ByteParsing
import VolumeModel

/// One attribute's value with all its extents merged: resident bytes, or runs covering VCN 0
/// to the end. The merge validates what reading relies on: extents contiguous from VCN 0,
/// the runs a `RunMap` (bytes representable), the data size inside them.
struct DataStream: Sendable {
    enum Storage: Sendable {
        case resident([UInt8])
        case runs(RunMap)
    }

    let storage: Storage
    let dataSize: UInt64
    /// Bytes past this read as zeros (written by NTFS but never initialized).
    let initializedSize: UInt64
    /// What the stream occupies on disk.
    let allocatedBytes: UInt64
    /// Clusters per compression unit; 0 when the stream is not compressed.
    let compressionUnit: UInt64
    let isEncrypted: Bool
    let isSparse: Bool

    /// What a file without an unnamed $DATA reads as.
    static let empty = DataStream(storage: .resident([]), dataSize: 0, initializedSize: 0, allocatedBytes: 0,
                                  compressionUnit: 0, isEncrypted: false, isSparse: false)

    /// Merges the extents of one attribute (same type and name), in any order.
    static func merge(_ extents: [AttributeRecord], clusterSize: UInt64, _ what: String) throws(ByteParsingError) -> DataStream {
        guard let first = extents.first else {
            throw .invalid(what: what, at: 0, reason: "no extents")
        }
        let encrypted = extents.contains { $0.isEncrypted }
        let sparse = extents.contains { $0.flags & AttributeFlags.sparse != 0 }
        if case let .resident(value) = first.body {
            guard extents.count == 1 else {
                throw .invalid(what: what, at: 0, reason: "a resident value in record \(first.recordNumber) and \(extents.count - 1) more extents")
            }
            let size = UInt64(value.count)
            return DataStream(storage: .resident(value), dataSize: size, initializedSize: size, allocatedBytes: 0,
                              compressionUnit: 0, isEncrypted: encrypted, isSparse: false)
        }
        var parts: [(AttributeRecord.NonResident, UInt64)] = []
        for extent in extents {
            guard case let .nonResident(header) = extent.body else {
                throw .invalid(what: what, at: 0, reason: "a resident extent in record \(extent.recordNumber) among non-resident ones")
            }
            parts.append((header, extent.recordNumber))
        }
        parts.sort { $0.0.lowestVCN < $1.0.lowestVCN }
        var runs: [DataRun] = []
        var nextVCN: UInt64 = 0
        for (header, record) in parts {
            guard header.lowestVCN.value == nextVCN else {
                throw .invalid(what: what, at: 0, reason: "extent in record \(record) starts at \(header.lowestVCN), expected VCN \(nextVCN)")
            }
            runs += header.runs
            if let last = header.runs.last { nextVCN = last.endVCN }
        }
        let head = parts[0].0
        let map: RunMap
        do {
            map = try RunMap(runs.map { MappedRun(logical: $0.vcn.value, count: $0.length, physical: $0.lcn?.value) },
                             unitSize: clusterSize, unmapped: .corrupt)
        } catch {
            throw .invalid(what: what, at: 0, reason: "\(error)")
        }
        let coverage = map.mappedBytes
        guard head.dataSize <= coverage || runs.isEmpty && head.dataSize == 0 else {
            throw .invalid(what: what, at: 0, reason: "data size \(head.dataSize) is larger than the \(coverage) bytes its runs map")
        }
        var unit: UInt64 = 0
        if head.compressionUnitShift != 0, first.isCompressed {
            unit = 1 << UInt64(head.compressionUnitShift)
            // LZNT1 units are 16 clusters of at most 4 KiB: bound the buffer a unit needs.
            guard unit * clusterSize <= 1 << 20 else {
                throw .invalid(what: what, at: 0, reason: "compression unit of \(unit) clusters of \(clusterSize) bytes")
            }
        }
        return DataStream(storage: .runs(map), dataSize: head.dataSize,
                          initializedSize: min(head.initializedSize, head.dataSize),
                          allocatedBytes: head.compressedSize ?? head.allocatedSize,
                          compressionUnit: unit, isEncrypted: encrypted, isSparse: sparse)
    }
}
