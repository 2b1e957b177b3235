/// The order of a catalog's records: paths compared component by component, each component
/// by its bytes, so a directory's whole subtree comes right after it and before its next
/// sibling ("/a", "/a/b", "/a.txt"). Both sides of a diff walk in this order.
public enum PathOrder {
    /// Whether `lhs` sorts before `rhs`. A '/' sorts before every byte a name can hold.
    public static func precedes(_ lhs: String, _ rhs: String) -> Bool {
        precedes(lhs.utf8, rhs.utf8)
    }

    /// The same over the paths' bytes.
    public static func precedes(_ lhs: some Sequence<UInt8>, _ rhs: some Sequence<UInt8>) -> Bool {
        var left = lhs.makeIterator()
        var right = rhs.makeIterator()
        while true {
            switch (left.next(), right.next()) {
            case (nil, nil): return false
            case (nil, _): return true
            case (_, nil): return false
            case let (a?, b?) where a != b: return rank(a) < rank(b)
            default: continue
            }
        }
    }

    private static func rank(_ byte: UInt8) -> Int { byte == 0x2F ? -1 : Int(byte) }
}
