/// A byte window of a parent device: a partition, a logical volume's extent, or a whole
/// unpartitioned disk. Every read is checked against the window, so a parser handed a slice
/// can never reach the bytes of a neighbour, whatever its own metadata claims.
public struct DeviceSlice: BlockDevice {
    public let parent: any BlockDevice
    /// Where the window starts on the parent, in bytes.
    public let offset: UInt64
    public let size: UInt64

    /// Throws `outOfRange` when the window does not lie inside `parent`.
    public init(_ parent: any BlockDevice, offset: UInt64, size: UInt64) throws(DiskReadError) {
        let (end, overflow) = offset.addingReportingOverflow(size)
        guard !overflow, end <= parent.size else {
            throw .outOfRange(offset: offset, count: Int(clamping: size), size: parent.size)
        }
        self.parent = parent
        self.offset = offset
        self.size = size
    }

    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DiskReadError) {
        try checkRange(offset, buffer.count)
        // Cannot overflow: offset + count <= size and self.offset + size <= parent.size.
        try parent.read(at: self.offset + offset, into: buffer)
    }
}
