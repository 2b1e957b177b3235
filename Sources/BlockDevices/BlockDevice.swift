/// Random access to the bytes of a disk or volume. Implementations are safe to call from
/// many threads at once (FUSE calls arrive on several).
public protocol BlockDevice: Sendable {
    var size: UInt64 { get }
    /// Fills `buffer` with the bytes at `offset`. The whole range must lie inside the device.
    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DiskReadError)
}

extension BlockDevice {
    /// Reads `count` bytes at `offset` into a new array.
    public func read(at offset: UInt64, count: Int) throws(DiskReadError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(DiskReadError) in try read(at: offset, into: buffer) }
        }.get()
        return bytes
    }

    /// Throws unless `count` bytes at `offset` lie inside the device.
    public func checkRange(_ offset: UInt64, _ count: Int) throws(DiskReadError) {
        let (end, overflow) = offset.addingReportingOverflow(UInt64(count))
        guard !overflow, end <= size else { throw .outOfRange(offset: offset, count: count, size: size) }
    }
}
