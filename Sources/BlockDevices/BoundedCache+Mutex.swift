import Synchronization

extension Mutex {
    /// The value cached for `key`, else the one `make` builds, then cached with its weight.
    /// `make` runs outside the lock, so readers of other keys never wait for it (two threads
    /// missing the same key may both build it; either result is kept).
    public func value<Key: Hashable & Sendable, Cached: Sendable, Failure: Error>(
        for key: Key, weight: (Cached) -> Int, orMake make: () throws(Failure) -> Cached
    ) throws(Failure) -> Cached where Value == BoundedCache<Key, Cached> {
        if let cached = withLock({ $0.value(for: key) }) { return cached }
        let made = try make()
        let cost = weight(made)
        withLock { $0.insert(made, for: key, weight: cost) }
        return made
    }
}
