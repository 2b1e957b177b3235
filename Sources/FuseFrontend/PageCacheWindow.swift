/// When a read is followed by storing the window around it in the kernel's page cache.
///
/// Sequential readers arrive as read-ahead requests of 128 KiB and more; anything smaller is
/// a random read (fio, a database, `file` reading a header). After a small read the whole
/// window around it (one chunk's worth, file-aligned) is stored: serving the read decrypted
/// and authenticated the chunk anyway, and with the window stored the next reads nearby are
/// page-cache hits that never reach the daemon, instead of each costing a chunk when the
/// chunk cache is smaller than the reader's working set.
enum PageCacheWindow {
    static let largestSmallRead = 128 << 10

    /// The window to fill after a read of `asked` bytes at `offset` that returned `served`,
    /// or nil when there is nothing to add.
    static func after(offset: UInt64, asked: Int, served: Int, windowSize: UInt64) -> Range<UInt64>? {
        guard asked < largestSmallRead, served > 0 else { return nil }
        let start = offset / windowSize * windowSize
        // Nothing to add when the reply carried the window's rest: a short reply means the
        // file ends there (a small file read whole, the usual case in a tree walk).
        let reachedEnd = served < asked
        guard start < offset || (!reachedEnd && offset + UInt64(served) < start + windowSize) else { return nil }
        return start ..< start + windowSize
    }
}
