import Synchronization

/// Read replies are at most 1 MiB (max_write): one buffer per busy loop thread, reused, so
/// a read does not map and fault in fresh memory (profiled: a fifth of the daemon's CPU).
final class ReplyBuffers: Sendable {
    static let size = 1 << 20
    private let free = Mutex<[UInt]>([])

    /// A buffer of at least `count` bytes: a pooled one of `size`, or a fresh one past that.
    func take(_ count: Int) -> UnsafeMutableRawBufferPointer {
        guard count <= Self.size else { return .allocate(byteCount: count, alignment: 4096) }
        let address = free.withLock { $0.popLast() }
        let start = address.flatMap { UnsafeMutableRawPointer(bitPattern: $0) }
            ?? UnsafeMutableRawPointer.allocate(byteCount: Self.size, alignment: 4096)
        return UnsafeMutableRawBufferPointer(start: start, count: Self.size)
    }

    func giveBack(_ buffer: UnsafeMutableRawBufferPointer) {
        guard buffer.count == Self.size, let start = buffer.baseAddress else { return buffer.deallocate() }
        free.withLock { $0.append(UInt(bitPattern: start)) }
    }
}
