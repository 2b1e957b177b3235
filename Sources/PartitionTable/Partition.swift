/// One entry of a partition table, in bytes whatever the table's sector size.
public struct Partition: Sendable, Hashable {
    /// As Linux numbers it: MBR primaries 1-4 by slot, logicals from 5 in chain order; GPT
    /// by slot in the entry array. This is the N of `part<N>`.
    public let number: Int
    public let start: UInt64
    public let size: UInt64
    public let type: PartitionType
    /// GPT partition name; MBR has none.
    public let name: String?
    /// GPT attribute bits; nil for MBR.
    public let attributes: GPTAttributes?
    /// GPT unique partition GUID (Linux's PARTUUID).
    public let uniqueGUID: String?
    /// MBR boot flag (0x80), or GPT's legacy-BIOS-bootable attribute.
    public let bootable: Bool

    public var end: UInt64 { start + size }
}

/// The GPT partition attribute field: three defined bits, 45 reserved, and 16 whose meaning
/// depends on the partition type (Microsoft's read-only, hidden, no-automount are 60, 62, 63).
public struct GPTAttributes: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let requiredPartition = GPTAttributes(rawValue: 1 << 0)
    public static let noBlockIOProtocol = GPTAttributes(rawValue: 1 << 1)
    public static let legacyBIOSBootable = GPTAttributes(rawValue: 1 << 2)

    /// As fdisk spells the set bits ("LegacyBIOSBootable GUID:60,63"); reserved bits are not
    /// named there either. Empty when no such bit is set.
    public var description: String {
        let defined = ["RequiredPartition", "NoBlockIOProtocol", "LegacyBIOSBootable"]
        let isSet = { (bit: Int) in self.rawValue >> UInt64(bit) & 1 == 1 }
        var words = (0 ..< 3).filter(isSet).map { defined[$0] }
        let typeSpecific = (48 ..< 64).filter(isSet).map(String.init)
        if !typeSpecific.isEmpty { words.append("GUID:" + typeSpecific.joined(separator: ",")) }
        return words.joined(separator: " ")
    }
}

extension [Partition] {
    /// "partitions 1 and 2 overlap" for each partition that starts inside an earlier one.
    /// Extended containers hold their logicals by design and are left out.
    func overlapAnomalies() -> [String] {
        var anomalies: [String] = []
        var widest: Partition?
        for partition in filter({ !$0.type.isExtendedContainer }).sorted(by: { $0.start < $1.start }) {
            if let previous = widest, partition.start < previous.end {
                anomalies.append("partitions \(previous.number) and \(partition.number) overlap")
            }
            if widest.map({ partition.end > $0.end }) ?? true { widest = partition }
        }
        return anomalies
    }
}
