/// A small least-recently-used cache bounded by entry count and by total weight. Eviction
/// scans for the oldest entry, cheap at the few hundred entries these caches hold.
struct BoundedCache<Key: Hashable, Value> {
    private struct Slot {
        var value: Value
        var weight: Int
        var lastUse: UInt64
    }

    let maxCount: Int
    let maxWeight: Int
    private var slots: [Key: Slot] = [:]
    private var clock: UInt64 = 0
    private(set) var totalWeight = 0

    init(maxCount: Int, maxWeight: Int) {
        self.maxCount = max(maxCount, 1)
        self.maxWeight = max(maxWeight, 1)
    }

    mutating func value(for key: Key) -> Value? {
        guard var slot = slots[key] else { return nil }
        clock &+= 1
        slot.lastUse = clock
        slots[key] = slot
        return slot.value
    }

    /// Stores `value` unless it alone outweighs the whole cache; evicts the least recently
    /// used entries until both bounds hold.
    mutating func insert(_ value: Value, for key: Key, weight: Int) {
        let weight = max(weight, 1)
        guard weight <= maxWeight else { return }
        if let old = slots.removeValue(forKey: key) { totalWeight -= old.weight }
        while !slots.isEmpty, slots.count >= maxCount || totalWeight + weight > maxWeight {
            guard let oldest = slots.min(by: { $0.value.lastUse < $1.value.lastUse }) else { break }
            slots.removeValue(forKey: oldest.key)
            totalWeight -= oldest.value.weight
        }
        clock &+= 1
        slots[key] = Slot(value: value, weight: weight, lastUse: clock)
        totalWeight += weight
    }
}
