/// A least-recently-used cache bounded by entry count and by total weight (what an entry
/// costs: block-map runs, directory entries), for the filesystem readers' metadata caches.
/// Lookups, inserts and evictions are O(1): `RecencyList` keeps the order of use.
public struct BoundedCache<Key: Hashable, Value> {
    @usableFromInline struct Slot {
        @usableFromInline var value: Value
        @usableFromInline var weight: Int

        @inlinable init(value: Value, weight: Int) {
            self.value = value
            self.weight = weight
        }
    }

    public let maxCount: Int
    public let maxWeight: Int
    @usableFromInline var slots: [Key: Slot] = [:]
    @usableFromInline var order = RecencyList<Key>()
    @usableFromInline var weightInUse = 0

    @inlinable public init(maxCount: Int, maxWeight: Int) {
        self.maxCount = max(maxCount, 1)
        self.maxWeight = max(maxWeight, 1)
    }

    @inlinable public var count: Int { slots.count }
    @inlinable public var totalWeight: Int { weightInUse }

    @inlinable public mutating func value(for key: Key) -> Value? {
        guard let slot = slots[key] else { return nil }
        order.touch(key)
        return slot.value
    }

    /// Stores `value` unless it alone outweighs the whole cache; evicts the least recently
    /// used entries until both bounds hold.
    @inlinable public mutating func insert(_ value: Value, for key: Key, weight: Int) {
        let weight = max(weight, 1)
        guard weight <= maxWeight else { return }
        if let old = slots.removeValue(forKey: key) { weightInUse -= old.weight }
        while !slots.isEmpty, slots.count >= maxCount || weightInUse + weight > maxWeight {
            // The order may still hold `key` itself (just removed above): skipping it is right.
            guard let oldest = order.removeOldest() else { break }
            if let evicted = slots.removeValue(forKey: oldest) { weightInUse -= evicted.weight }
        }
        slots[key] = Slot(value: value, weight: weight)
        order.touch(key)
        weightInUse += weight
    }
}
