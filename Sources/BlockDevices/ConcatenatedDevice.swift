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
        guard buffer.count > 0 else { return }
        // The last part starting at or before `offset` (empty parts are skipped by the loop).
        var low = 0
        var high = parts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if starts[middle] <= offset { low = middle } else { high = middle - 1 }
        }
        var part = low
        var position = offset
        var done = 0
        while done < buffer.count {
            let end = starts[part + 1]
            if position >= end {
                part += 1
                continue
            }
            let n = Int(min(UInt64(buffer.count - done), end - position))
            try parts[part].read(at: position - starts[part], into: UnsafeMutableRawBufferPointer(rebasing: buffer[done ..< done + n]))
            done += n
            position += UInt64(n)
        }
    }
}
