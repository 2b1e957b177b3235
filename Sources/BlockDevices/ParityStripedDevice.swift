/// Equal devices in chunks with one parity chunk per row (RAID 5, left-asymmetric as
/// Windows lays it out): row r's parity is on column n - 1 - (r % n), and its data chunks are
/// on the other columns in order. Only the data is read: every column must be present.
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
        let dataPerRow = count - 1
        var position = offset
        var done = 0
        while done < buffer.count {
            // Inside the device, so none of these overflow.
            let chunk = position / chunkSize
            let within = position % chunkSize
            let n = Int(min(UInt64(buffer.count - done), chunkSize - within))
            let row = chunk / dataPerRow
            let index = chunk % dataPerRow
            let parity = count - 1 - row % count
            let column = index < parity ? index : index + 1
            try columns[Int(column)].read(at: row * chunkSize + within, into: UnsafeMutableRawBufferPointer(rebasing: buffer[done ..< done + n]))
            done += n
            position += UInt64(n)
        }
    }
}
