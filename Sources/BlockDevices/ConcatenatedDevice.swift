/// Devices one after another as one device: a spanned volume, a linear logical volume over
/// several extents. A read that crosses a boundary is split between the parts.
public struct ConcatenatedDevice: BlockDevice {
    public let parts: [any BlockDevice]
    /// `starts[i]` is where part i begins in this device; one more entry holds the total size.
    private let starts: [UInt64]

    public var size: UInt64 { starts[starts.count - 1] }

    /// Throws `outOfRange` when the parts' sizes add up past 2^64.
    public init(_ parts: [any BlockDevice]) throws(DiskReadError) {
        var starts: [UInt64] = [0]
        starts.reserveCapacity(parts.count + 1)
        for part in parts {
            let (end, overflow) = starts[starts.count - 1].addingReportingOverflow(part.size)
            guard !overflow else { throw .outOfRange(offset: starts[starts.count - 1], count: 0, size: .max) }
            starts.append(end)
        }
        self.parts = parts
        self.starts = starts
    }

    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DiskReadError) {
        try checkRange(offset, buffer.count)
        var done = 0
        for (part, start, count) in spans(offset: offset, length: UInt64(buffer.count)) {
            let n = Int(count)
            try parts[part].read(at: start, into: UnsafeMutableRawBufferPointer(rebasing: buffer[done ..< done + n]))
            done += n
        }
    }

    /// The parts a range in bounds crosses: (part, offset in it, byte count), in order.
    private func spans(offset: UInt64, length: UInt64) -> [(part: Int, offset: UInt64, count: UInt64)] {
        guard length > 0 else { return [] }
        // The last part starting at or before `offset` (empty parts are skipped by the loop).
        var low = 0
        var high = parts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if starts[middle] <= offset { low = middle } else { high = middle - 1 }
        }
        var result: [(part: Int, offset: UInt64, count: UInt64)] = []
        var part = low
        var position = offset
        let end = offset + length
        while position < end {
            let partEnd = starts[part + 1]
            if position >= partEnd {
                part += 1
                continue
            }
            let count = min(end, partEnd) - position
            result.append((part, position - starts[part], count))
            position += count
        }
        return result
    }
}

extension ConcatenatedDevice: LayeredDevice {
    public func lower(offset: UInt64, length: UInt64) throws(DiskReadError) -> [DevicePiece] {
        try checkRange(offset, length: length)
        return spans(offset: offset, length: length).map { DevicePiece(device: parts[$0.part], offset: $0.offset, length: $0.count) }
    }
}
