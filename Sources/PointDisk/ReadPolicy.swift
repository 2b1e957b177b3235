/// How a point's decrypted disks read their chunks: every knob of the cache, read-ahead,
/// drop-behind and uncached reads, in one place. docs/ARCHITECTURE.md (*The read path*) says
/// why each default is what it is, and docs/BENCHMARKS.md what it measured.
///
/// A chunk is authenticated whole, so the unit of every rule is a chunk:
/// - A reader that reads chunks i-2, i-1, i in turn (`sequentialSteps` steps in a row) is
///   sequential. One step is not enough: a tree walk or a random reader's page-cache window
///   straddles two chunks, and reading ahead there loads chunks nobody reads.
/// - A sequential reader gets the next chunks loaded ahead (`readAheadChunks(chunkSize:)`),
///   on `loaders` serial queues so that several loads wait for the store at once while the
///   reader copies; those loads bypass the store's page cache (`uncachedReadAhead`), since
///   the plaintext goes on to the chunk cache and a mount's page cache.
/// - The chunk `dropBehind` behind such a reader leaves the cache: it reads each byte once,
///   and holding its chunks would fill the cache with fresh memory and evict what others use.
/// - Loads on demand (random readers, metadata) read through the page cache: after the chunk
///   cache lets such a chunk go it may be wanted again.
public struct ReadPolicy: Sendable, Equatable {
    public static let defaultCacheBytes = 256 << 20

    /// Decrypted chunks kept, in bytes (`--cache-size`). Loads in flight count against it.
    public var cacheBytes: Int
    /// Sequential chunk steps in a row that make a reader sequential.
    public var sequentialSteps = 2
    /// Read-ahead takes at most this many bytes, at most a quarter of the cache, and at most
    /// `readAheadMaxChunks` chunks.
    public var readAheadMaxBytes = 32 << 20
    public var readAheadMaxChunks = 64
    /// How many chunks behind a sequential reader its chunks are dropped.
    public var dropBehind: UInt64 = 2
    /// Read-ahead loads in flight at once, each on a serial queue of its own.
    public var loaders = 8
    /// Whether read-ahead loads ask the store not to keep the ciphertext cached.
    public var uncachedReadAhead = true
    /// Released chunk buffers kept for reuse, in bytes: one for each load in flight of the
    /// default 4 MiB chunks, and one more (fresh buffers are zeroed by the kernel).
    public var retainedBuffers: Int { (loaders + 2) * (4 << 20) }

    public init(cacheBytes: Int = defaultCacheBytes) {
        self.cacheBytes = cacheBytes
    }

    /// The policy for a point's store: one whose every fetch is a network round trip keeps
    /// twice the loads in flight and twice the window ahead, so that a sequential reader
    /// does not wait a round trip per chunk.
    public static func forStore(remote: Bool, cacheBytes: Int = defaultCacheBytes) -> ReadPolicy {
        var policy = ReadPolicy(cacheBytes: cacheBytes)
        if remote {
            policy.loaders = 16
            policy.readAheadMaxBytes = 64 << 20
        }
        return policy
    }

    /// How many bytes of chunks a reader gets loaded ahead of it: a quarter of the cache at
    /// most, so that what is loaded ahead is still cached when it is read.
    public var readAheadWindowBytes: Int { min(readAheadMaxBytes, cacheBytes / 4) }

    /// How many chunks of `chunkSize` bytes a sequential reader gets loaded ahead.
    public func readAheadChunks(chunkSize: Int) -> UInt64 {
        UInt64(min(readAheadMaxChunks, readAheadWindowBytes / max(chunkSize, 1)))
    }
}
