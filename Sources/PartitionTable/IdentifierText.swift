import ByteParsing

/// Identifiers as people see them in blkid, fdisk and fstab.
enum IdentifierText {
    /// 16 bytes in stored order as 8-4-4-4-12 (ext, XFS, Btrfs, swap).
    static func uuid(_ bytes: [UInt8]) -> String {
        precondition(bytes.count == 16, "a UUID is 16 bytes")
        return [0 ..< 4, 4 ..< 6, 6 ..< 8, 8 ..< 10, 10 ..< 16]
            .map { Hex.encode(bytes[$0]) }
            .joined(separator: "-")
    }

    /// Microsoft's GUID layout (GPT): the first three fields are little-endian.
    static func guid(_ bytes: [UInt8]) -> String {
        precondition(bytes.count == 16, "a GUID is 16 bytes")
        return uuid([3, 2, 1, 0, 5, 4, 7, 6].map { bytes[$0] } + bytes[8...])
    }

    /// Zero-padded lower-case hex, `digits` long.
    static func hex(_ value: some BinaryInteger, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
