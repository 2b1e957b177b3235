import BlockDevices
import Dispatch
import Pools
import RecoveryPoint
import Synchronization

/// Decrypted chunks, bounded by total bytes, least recently used evicted first.
///
/// Concurrent readers of the same chunk share one load: the first starts it, the others
/// wait for its result, so a chunk is fetched and decrypted once. Failed loads are not
/// cached: the next read tries again and reports the error again.
public final class ChunkCache: Sendable {
    public struct Key: Hashable, Sendable {
        let disk: Int
        let index: UInt64
    }

    /// A load in progress; waiters block on the group until the loader leaves it.
    private final class Pending: @unchecked Sendable {
        let group = DispatchGroup()
        // Written once by the loader before group.leave(); read by waiters after wait().
        var result: Result<ChunkBuffer, DiskReadError>?

        func outcome() -> Result<ChunkBuffer, DiskReadError> {
            guard let result else { preconditionFailure("a chunk load left its group without a result") }
            return result
        }
    }

    private enum Slot {
        case ready(ChunkBuffer)
        case loading(Pending)
    }

    private struct State {
        var slots: [Key: Slot] = [:]
        var order = RecencyList<Key>()
        var bytes = 0
    }

    public let policy: ReadPolicy
    /// Memory for the chunks this cache holds and loads.
    let buffers: BufferPool
    /// Read-ahead loads run on these serial queues, chosen by chunk index, rather than on the
    /// global pool, which runs as many loads as there are cores, niced as background work:
    /// a load mostly waits for the store, and `policy.loaders` of them in flight keep the
    /// cores busy.
    private let loaders: [DispatchQueue]
    private let state = Mutex(State())
    private let readAhead: Atomic<Bool>

    public var capacity: Int { policy.cacheBytes }

    /// `readAhead: false` keeps sequential steps from loading chunks ahead until
    /// `startReadAhead()`: a point's survey and the opening of its volumes read scattered
    /// sectors, and read-ahead there would decrypt whole chunks that nobody reads.
    public init(policy: ReadPolicy, readAhead: Bool = true) {
        self.policy = policy
        self.readAhead = Atomic(readAhead)
        buffers = BufferPool(retaining: policy.retainedBuffers)
        loaders = (0 ..< max(1, policy.loaders)).map { DispatchQueue(label: "rpfs.chunk-load.\($0)") }
    }

    /// A cache of `capacity` bytes with the default policy otherwise.
    public convenience init(capacity: Int, readAhead: Bool = true) {
        self.init(policy: ReadPolicy(cacheBytes: capacity), readAhead: readAhead)
    }

    /// Whether sequential readers of this cache's disks load the next chunks ahead.
    public var readsAhead: Bool { readAhead.load(ordering: .relaxed) }

    public func startReadAhead() {
        readAhead.store(true, ordering: .relaxed)
    }

    /// Waits, at most `seconds`, for the read-ahead loads already started: what they fetch
    /// reaches any cache the store keeps (a remote store's object cache) before the process
    /// ends, so that the next process does not fetch it again.
    public func finishLoads(within seconds: Double) {
        let group = DispatchGroup()
        // Each loader is a serial queue: an empty block runs after the loads queued before it.
        for loader in loaders { loader.async(group: group) {} }
        _ = group.wait(timeout: .now() + seconds)
    }

    /// The cached chunk for `key` (`size` bytes of plaintext), loading it with `load` when absent.
    func chunk(_ key: Key, size: Int, load: () throws(DiskReadError) -> ChunkBuffer) throws(DiskReadError) -> ChunkBuffer {
        switch claim(key, size: size) {
        case let .hit(chunk):
            return chunk
        case let .wait(pending):
            pending.group.wait()
            return try pending.outcome().get()
        case let .load(pending):
            return try complete(key, size, pending, Result { () throws(DiskReadError) in try load() }).get()
        }
    }

    /// Starts loading `key` on another thread unless it is cached or already loading.
    /// The slot is claimed here, synchronously, so repeated read-ahead requests for the same
    /// chunk never queue duplicate work.
    func prefetch(_ key: Key, size: Int, load: @escaping @Sendable () throws(DiskReadError) -> ChunkBuffer) {
        guard case let .load(pending) = claim(key, size: size) else { return }
        loaders[Int(key.index % UInt64(loaders.count))].async { [self] in
            // A failure is not cached; the reader meets it again and reports it.
            _ = complete(key, size, pending, Result { () throws(DiskReadError) in try load() })
        }
    }

    private enum Claim {
        case hit(ChunkBuffer)
        case wait(Pending)
        case load(Pending)
    }

    /// A load counts against the capacity from the moment it is claimed: room is made before
    /// the chunk's memory is taken, not after, or every load in flight at once would add a
    /// chunk above the bound.
    private func claim(_ key: Key, size: Int) -> Claim {
        state.withLock { state in
            switch state.slots[key] {
            case let .ready(chunk)?:
                state.order.touch(key)
                return .hit(chunk)
            case let .loading(pending)?:
                return .wait(pending)
            case nil:
                let pending = Pending()
                pending.group.enter()
                state.slots[key] = .loading(pending)
                state.bytes += size
                evict(&state)
                return .load(pending)
            }
        }
    }

    private func complete(_ key: Key, _ reserved: Int, _ pending: Pending, _ result: Result<ChunkBuffer, DiskReadError>) -> Result<ChunkBuffer, DiskReadError> {
        state.withLock { state in
            switch result {
            case let .success(chunk):
                state.slots[key] = .ready(chunk)
                state.order.touch(key)
                state.bytes += chunk.count - reserved
                evict(&state)
            case .failure:
                state.slots[key] = nil
                state.bytes -= reserved
            }
        }
        pending.result = result
        pending.group.leave()
        return result
    }

    /// Drops `key` if it is cached (a load in flight stays); readers holding it keep it.
    func release(_ key: Key) {
        state.withLock { state in
            guard case let .ready(chunk)? = state.slots[key] else { return }
            state.slots[key] = nil
            state.order.remove(key)
            state.bytes -= chunk.count
        }
    }

    public var cachedBytes: Int { state.withLock { $0.bytes } }

    private func evict(_ state: inout State) {
        while state.bytes > capacity, let oldest = state.order.removeOldest() {
            if case let .ready(chunk)? = state.slots[oldest] {
                state.slots[oldest] = nil
                state.bytes -= chunk.count
            }
        }
    }
}
