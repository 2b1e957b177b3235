/// Equal devices interleaved in chunks (RAID 0, a striped logical volume): chunk k of this
/// device is chunk k / n of stripe k % n. A read that crosses chunks is split between them.
public struct StripedDevice: BlockDevice {
    public let stripes: [any BlockDevice]
    /// Bytes per chunk.
    public let chunkSize: UInt64
    public let size: UInt64

    /// Throws `outOfRange` unless there is at least one stripe, all stripes have the same size,
    /// a whole number of chunks, and the total fits in 2^64.
    public init(_ stripes: [any BlockDevice], chunkSize: UInt64) throws(DiskReadError) {
        let each = stripes.first?.size ?? 0
        let (total, overflow) = each.multipliedReportingOverflow(by: UInt64(stripes.count))
        guard !stripes.isEmpty, chunkSize > 0, each % chunkSize == 0, stripes.allSatisfy({ $0.size == each }), !overflow else {
            throw .outOfRange(offset: 0, count: 0, size: each)
        }
        self.stripes = stripes
        self.chunkSize = chunkSize
        size = total
    }

    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DiskReadError) {
        try checkRange(offset, buffer.count)
        let count = UInt64(stripes.count)
        try ChunkedRead.read(at: offset, into: buffer, chunkSize: chunkSize, devices: stripes) { chunk in
            (Int(chunk % count), (chunk / count) * chunkSize)
        }
    }
}
