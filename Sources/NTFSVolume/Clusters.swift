/// A logical cluster number: a cluster's position on the volume.
struct LCN: Hashable, Comparable, Sendable, CustomStringConvertible {
    let value: UInt64
    init(_ value: UInt64) { self.value = value }
    static func < (lhs: LCN, rhs: LCN) -> Bool { lhs.value < rhs.value }
    var description: String { "LCN \(value)" }
}

/// A virtual cluster number: a cluster's position inside one attribute's stream.
struct VCN: Hashable, Comparable, Sendable, CustomStringConvertible {
    let value: UInt64
    init(_ value: UInt64) { self.value = value }
    static func < (lhs: VCN, rhs: VCN) -> Bool { lhs.value < rhs.value }
    var description: String { "VCN \(value)" }
}

/// A reference to an MFT record: 48-bit record number and 16-bit sequence number.
struct FileReference: Hashable, Sendable {
    let raw: UInt64
    var recordNumber: UInt64 { raw & 0x0000_FFFF_FFFF_FFFF }
    var sequence: UInt16 { UInt16(truncatingIfNeeded: raw >> 48) }
}
