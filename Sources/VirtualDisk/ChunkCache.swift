import Dispatch
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

    public let capacity: Int
    private let state = Mutex(State())

    public init(capacity: Int) {
        self.capacity = capacity
    }

    /// The cached chunk for `key`, loading it with `load` when absent.
    func chunk(_ key: Key, load: () throws(DiskReadError) -> ChunkBuffer) throws(DiskReadError) -> ChunkBuffer {
        enum Next { case hit(ChunkBuffer), wait(Pending), load(Pending) }
        let next: Next = state.withLock { state in
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
                return .load(pending)
            }
        }
        switch next {
        case let .hit(chunk):
            return chunk
        case let .wait(pending):
            pending.group.wait()
            // The loader always sets a result before leaving the group.
            guard let result = pending.result else { return try load() }
            return try result.get()
        case let .load(pending):
            let result = Result { () throws(DiskReadError) in try load() }
            state.withLock { state in
                switch result {
                case let .success(chunk):
                    state.slots[key] = .ready(chunk)
                    state.order.touch(key)
                    state.bytes += chunk.count
                    evict(&state)
                case .failure:
                    state.slots[key] = nil
                }
            }
            pending.result = result
            pending.group.leave()
            return try result.get()
        }
    }

    /// True when `key` is cached or being loaded: read-ahead skips those.
    func isPresent(_ key: Key) -> Bool {
        state.withLock { $0.slots[key] != nil }
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
