/// Equal devices in chunks with one parity chunk per row (RAID 5, left-symmetric as Windows
/// lays it out): row r's parity is on column p = n - 1 - (r % n), and its data chunks follow
/// it, wrapping around: data chunk d of the row is on column (p + 1 + d) % n. Only the data
/// is read: every column must be present.
public struct ParityStripedDevice: BlockDevice {
    public let columns: [any BlockDevice]
    /// Bytes per chunk.
    public let chunkSize: UInt64
    public let size: UInt64

    /// Throws `outOfRange` unless there are at least three columns of the same size, a whole
    /// number of chunks each.
    public init(_ columns: [any BlockDevice], chunkSize: UInt64) throws(DiskReadError) {
        let each = columns.first?.size ?? 0
        let (total, overflow) = each.multipliedReportingOverflow(by: UInt64(max(columns.count, 1) - 1))
        guard columns.count >= 3, chunkSize > 0, each % chunkSize == 0, columns.allSatisfy({ $0.size == each }), !overflow else {
            throw .outOfRange(offset: 0, count: 0, size: each)
        }
        self.columns = columns
        self.chunkSize = chunkSize
        size = total
    }

    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DiskReadError) {
        try checkRange(offset, buffer.count)
        let count = UInt64(columns.count)
        try forEachBlockPiece(at: offset, of: buffer, blockSize: chunkSize) { chunk, within, piece throws(DiskReadError) in
            let row = chunk / (count - 1)
            let index = chunk % (count - 1)
            let parity = count - 1 - row % count
            try columns[Int((parity + 1 + index) % count)].read(at: row * chunkSize + within, into: piece)
        }
    }
}
