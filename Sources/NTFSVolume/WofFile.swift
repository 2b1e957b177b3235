import ByteParsing

/// A file compressed by the Windows Overlay Filter's file provider (compact.exe /EXE,
/// CompactOS): its unnamed $DATA is sparse and gives only the size; the named stream
/// "WofCompressedData" holds a table of the offsets of chunks 1 to N-1 (4 bytes each, 8 when
/// the file is 4 GiB or more), counted from the table's end, then the N chunks, each
/// compressed on its own (a chunk that did not shrink is stored as it is).
struct WofFile: Sendable {
    enum Algorithm: UInt32, Sendable {
        case xpress4k = 0, lzx = 1, xpress8k = 2, xpress16k = 3

        var chunkSize: UInt64 {
            switch self {
            case .xpress4k: 4096
            case .lzx: 32768
            case .xpress8k: 8192
            case .xpress16k: 16384
            }
        }

        var format: Wimlib.Format { self == .lzx ? .lzx : .xpress }
        var name: String { self == .lzx ? "LZX" : "XPRESS\(chunkSize / 1024)K" }
    }

    static let streamName: [UInt16] = Array("WofCompressedData".utf16)

    let algorithm: Algorithm
    /// The uncompressed size (the unnamed $DATA's size).
    let size: UInt64
    let stream: DataStream

    var chunkCount: UInt64 { size / algorithm.chunkSize + (size % algorithm.chunkSize == 0 ? 0 : 1) }
    var entrySize: UInt64 { size >= 1 << 32 ? 8 : 4 }
    var tableSize: UInt64 { chunkCount == 0 ? 0 : (chunkCount - 1) * entrySize }

    /// Bytes of chunk `chunk` once decompressed: the chunk size, less for the last.
    func plainSize(_ chunk: UInt64) -> UInt64 { min(algorithm.chunkSize, size - chunk * algorithm.chunkSize) }

    /// The bytes of the table that `bounds(first:last:...)` needs for chunks `first` to `last`:
    /// the entries of chunks max(first, 1) to min(last + 1, N - 1); nil when there are none.
    func tableEntries(first: UInt64, last: UInt64) -> Range<UInt64>? {
        let lowest = max(first, 1)
        let highest = min(last + 1, chunkCount - 1)
        guard lowest <= highest else { return nil }
        return (lowest - 1) * entrySize ..< highest * entrySize
    }

    /// Where chunks `first` to `last` lie after the table: `last - first + 2` increasing
    /// offsets, each chunk no larger than its data. `entries` holds the table entries of
    /// chunks max(first, 1) to min(last + 1, N - 1), as read from the stream.
    func bounds(first: UInt64, last: UInt64, entries: [UInt8], origin: UInt64) throws(ByteParsingError) -> [UInt64] {
        let reader = ByteReader(entries, origin: origin)
        let dataLength = stream.dataSize - tableSize
        let lowestEntry = max(first, 1)
        var bounds: [UInt64] = []
        for chunk in first ... last + 1 {
            let bound: UInt64
            if chunk == 0 {
                bound = 0
            } else if chunk == chunkCount {
                bound = dataLength
            } else {
                let at = Int((chunk - lowestEntry) * entrySize)
                bound = entrySize == 8 ? try reader.integer(at: at, "chunk \(chunk) offset") : UInt64(try reader.integer(at: at, "chunk \(chunk) offset") as UInt32)
            }
            if let previous = bounds.last {
                let chunkIndex = chunk - 1
                guard bound >= previous, bound - previous <= plainSize(chunkIndex), bound <= dataLength else {
                    throw .invalid(what: "WOF chunk table", at: origin, reason: "chunk \(chunkIndex) runs from \(previous) to \(bound) "
                                   + "(at most \(plainSize(chunkIndex)) bytes, inside the \(dataLength) after the table)")
                }
            }
            bounds.append(bound)
        }
        return bounds
    }
}
