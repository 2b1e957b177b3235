/// Keys in order of last use, with O(1) touch and O(1) removal of the oldest or any key:
/// a doubly linked list threaded through arrays, indexed by a dictionary.
/// (Inlinable so that the caches of the filesystem readers get it specialised.)
public struct RecencyList<Key: Hashable> {
    @usableFromInline var position: [Key: Int] = [:]
    @usableFromInline var keys: [Key?] = []
    @usableFromInline var newer: [Int] = []
    @usableFromInline var older: [Int] = []
    @usableFromInline var free: [Int] = []
    @usableFromInline var newest = -1
    @usableFromInline var oldest = -1

    @inlinable public init() {}

    @inlinable public var count: Int { position.count }

    /// Marks `key` as just used, adding it when new.
    @inlinable public mutating func touch(_ key: Key) {
        if let slot = position[key] {
            unlink(slot)
            linkAsNewest(slot)
            return
        }
        let slot: Int
        if let reused = free.popLast() {
            slot = reused
            keys[slot] = key
        } else {
            slot = keys.count
            keys.append(key)
            newer.append(-1)
            older.append(-1)
        }
        position[key] = slot
        linkAsNewest(slot)
    }

    @inlinable public mutating func removeOldest() -> Key? {
        guard oldest >= 0, let key = keys[oldest] else { return nil }
        remove(key)
        return key
    }

    @inlinable public mutating func remove(_ key: Key) {
        guard let slot = position.removeValue(forKey: key) else { return }
        unlink(slot)
        keys[slot] = nil
        free.append(slot)
    }

    @inlinable mutating func unlink(_ slot: Int) {
        let before = older[slot]
        let after = newer[slot]
        if before >= 0 { newer[before] = after } else { oldest = after }
        if after >= 0 { older[after] = before } else { newest = before }
        newer[slot] = -1
        older[slot] = -1
    }

    @inlinable mutating func linkAsNewest(_ slot: Int) {
        older[slot] = newest
        newer[slot] = -1
        if newest >= 0 { newer[newest] = slot }
        newest = slot
        if oldest < 0 { oldest = slot }
    }
}
