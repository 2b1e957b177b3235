/// $UpCase: the volume's upper-case table (one UTF-16 unit per UTF-16 unit), which Windows
/// uses to compare names. Lookups fold both sides through it.
struct UpCase: Sendable {
    static let entryCount = 65536
    let table: [UInt16]

    init?(_ bytes: [UInt8]) {
        guard bytes.count == 2 * Self.entryCount else { return nil }
        var table = [UInt16](repeating: 0, count: Self.entryCount)
        for index in 0 ..< Self.entryCount {
            table[index] = UInt16(bytes[2 * index]) | UInt16(bytes[2 * index + 1]) << 8
        }
        self.table = table
    }

    /// Used when $UpCase cannot be read: ASCII folding only.
    static let ascii: UpCase = {
        var table = (0 ..< entryCount).map { UInt16($0) }
        for letter in UInt16(0x61) ... 0x7A { table[Int(letter)] = letter - 0x20 }
        return UpCase(table: table)
    }()

    private init(table: [UInt16]) { self.table = table }

    func fold(_ name: [UInt16]) -> [UInt16] {
        name.map { table[Int($0)] }
    }
}
