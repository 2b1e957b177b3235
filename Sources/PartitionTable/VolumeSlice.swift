import VirtualDisk

/// A byte window of a parent device: a partition, or a whole unpartitioned disk. Every read
/// is checked against the window, so a filesystem parser handed a slice can never reach the
/// bytes of a neighbouring partition, whatever its own metadata claims.
public struct VolumeSlice: BlockDevice {
    public let parent: any BlockDevice
    /// Where the window starts on the parent, in bytes.
    public let offset: UInt64
    public let size: UInt64

    public init(_ parent: any BlockDevice, offset: UInt64, size: UInt64) throws(PartitionTableError) {
        let (end, overflow) = offset.addingReportingOverflow(size)
        guard !overflow, end <= parent.size else {
            throw .outsideDisk(offset: offset, size: size, diskSize: parent.size)
        }
        self.parent = parent
        self.offset = offset
        self.size = size
    }

    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DiskReadError) {
        let (end, overflow) = offset.addingReportingOverflow(UInt64(buffer.count))
        guard !overflow, end <= size else {
            throw .outOfRange(offset: offset, count: buffer.count, size: size)
        }
        // Cannot overflow: offset + count <= size and self.offset + size <= parent.size.
        try parent.read(at: self.offset + offset, into: buffer)
    }
}
