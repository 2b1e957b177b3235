/// A device made of ranges of other devices (a slice, a concatenation, a striped volume):
/// it can say where its bytes lie below it, so a file's placement on a volume can be followed
/// down to the disk that holds it.
public protocol LayeredDevice: BlockDevice {
    /// The pieces of the devices directly below that hold `length` bytes from `offset`, in
    /// order. The range must lie inside the device.
    func lower(offset: UInt64, length: UInt64) throws(DiskReadError) -> [DevicePiece]
}

/// `length` bytes at `offset` of `device`.
public struct DevicePiece: Sendable {
    public let device: any BlockDevice
    public let offset: UInt64
    public let length: UInt64

    public init(device: any BlockDevice, offset: UInt64, length: UInt64) {
        self.device = device
        self.offset = offset
        self.length = length
    }
}

extension BlockDevice {
    /// Where `length` bytes from `offset` lie on the devices at the bottom of the stack (those
    /// that are not `LayeredDevice`s: a disk, an image file), in order.
    public func bottomPieces(offset: UInt64, length: UInt64) throws(DiskReadError) -> [DevicePiece] {
        var result: [DevicePiece] = []
        try Self.descend(DevicePiece(device: self, offset: offset, length: length), depth: 0, into: &result)
        return result
    }

    /// Throws unless `length` bytes at `offset` lie inside the device.
    public func checkRange(_ offset: UInt64, length: UInt64) throws(DiskReadError) {
        let (end, overflow) = offset.addingReportingOverflow(length)
        guard !overflow, end <= size else { throw .outOfRange(offset: offset, count: Int(clamping: length), size: size) }
    }

    /// Stacks are a few layers deep (a disk, a partition, a logical volume); a deeper one is
    /// a cycle or a mistake, not something to follow.
    private static var maxDepth: Int { 16 }

    private static func descend(_ piece: DevicePiece, depth: Int, into result: inout [DevicePiece]) throws(DiskReadError) {
        guard let layered = piece.device as? any LayeredDevice else {
            result.append(piece)
            return
        }
        guard depth < maxDepth else {
            throw .outOfRange(offset: piece.offset, count: Int(clamping: piece.length), size: piece.device.size)
        }
        for lower in try layered.lower(offset: piece.offset, length: piece.length) {
            try descend(lower, depth: depth + 1, into: &result)
        }
    }
}

extension DeviceSlice: LayeredDevice {
    public func lower(offset: UInt64, length: UInt64) throws(DiskReadError) -> [DevicePiece] {
        try checkRange(offset, length: length)
        // Cannot overflow: offset + length <= size and self.offset + size <= parent.size.
        return [DevicePiece(device: parent, offset: self.offset + offset, length: length)]
    }
}
