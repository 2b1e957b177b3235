#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Page-aligned memory for chunk objects (up to 16 MiB each), with a bounded pool of
/// released buffers for reuse.
///
/// Buffers come from `mmap`, so a released buffer goes back to the kernel, which zeroes the
/// pages before anyone reuses them, instead of lingering in malloc's per-thread arenas. A
/// few released buffers are kept for reuse, so steady-state reading costs no page faults.
///
/// Buffers of 2 MiB and more start on a 2 MiB boundary and ask for transparent huge pages:
/// a 4 MiB chunk is then two page faults, not 1,024 (page faults are slow on virtual
/// machines; docs/ARCHITECTURE.md, *Decisions and measured facts*).
///
/// Whoever owns a pool sizes it for the buffers it has in flight at once (the point's read
/// policy, the writer's workers). For buffers of one size a pool does not raise the peak RSS:
/// a buffer is mapped only when none is pooled, so what is mapped never exceeds what was once
/// in use.
public final class BufferPool: Sendable {
    /// Released buffers kept for reuse, in bytes.
    public let retainedLimit: Int
    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
    /// The x86-64 and arm64 (4 KiB granule) PMD size: what a transparent huge page maps.
    private static let hugePageSize = 2 << 20

    private struct Pool {
        /// Free buffers by rounded size, as addresses (pointers are not Sendable).
        var free: [Int: [UInt]] = [:]
        var retained = 0
    }

    private let pool = Mutex(Pool())

    public init(retaining retainedLimit: Int) {
        self.retainedLimit = retainedLimit
    }

    deinit {
        pool.withLock { pool in
            for (size, addresses) in pool.free {
                for address in addresses { munmap(UnsafeMutableRawPointer(bitPattern: address), size) }
            }
        }
    }

    /// A buffer of at least `byteCount` bytes; its contents are unspecified.
    public func take(_ byteCount: Int) -> UnsafeMutableRawBufferPointer {
        let size = rounded(byteCount)
        if let address = pool.withLock({ pool -> UInt? in
            guard let address = pool.free[size]?.popLast() else { return nil }
            pool.retained -= size
            return address
        }) {
            return UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(bitPattern: address), count: byteCount)
        }
        return UnsafeMutableRawBufferPointer(start: Self.map(size), count: byteCount)
    }

    /// Fresh zeroed pages; huge-page aligned and advised when the size allows.
    private static func map(_ size: Int) -> UnsafeMutableRawPointer {
        let huge = size >= hugePageSize
        // Over-allocate by a huge page, then trim head and tail so the buffer starts aligned.
        let reserved = huge ? size + hugePageSize : size
        guard let base = mmap(nil, reserved, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), base != MAP_FAILED else {
            // Out of address space: the same condition makes every Swift allocation trap.
            fatalError("mmap of \(reserved) bytes for a chunk buffer failed: errno \(errno)")
        }
        guard huge else { return base }
        let address = UInt(bitPattern: base)
        let aligned = (address + UInt(hugePageSize - 1)) & ~UInt(hugePageSize - 1)
        let head = Int(aligned - address)
        if head > 0 { munmap(base, head) }
        let tail = reserved - head - size
        let start = base + head
        if tail > 0 { munmap(start + size, tail) }
        // Only the whole huge pages: an advised tail (a chunk object's last few bytes) gets a
        // huge page of its own once its mapping merges with a neighbour's, 2 MiB of memory
        // for 4 KiB. Only advice: without transparent huge pages the buffer works in small pages.
        _ = madvise(start, size / hugePageSize * hugePageSize, MADV_HUGEPAGE)
        return start
    }

    /// Returns a buffer from `take`: kept for reuse when there is room, else unmapped.
    public func give(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress else { return }
        let size = rounded(buffer.count)
        let address = UInt(bitPattern: base)
        let kept = pool.withLock { pool -> Bool in
            guard pool.retained + size <= retainedLimit else { return false }
            pool.free[size, default: []].append(address)
            pool.retained += size
            return true
        }
        if !kept { munmap(base, size) }
    }

    /// `buffer` (from `take`) extended to the end of its mapping's last page.
    public func pages(of buffer: UnsafeMutableRawBufferPointer) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: buffer.baseAddress, count: rounded(buffer.count))
    }

    private func rounded(_ byteCount: Int) -> Int {
        max(Self.pageSize, (byteCount + Self.pageSize - 1) / Self.pageSize * Self.pageSize)
    }
}
