/// CRC-32C (Castagnoli), as XFS checksums its v5 metadata: the standard CRC over the whole
/// structure with its checksum field read as zeros, stored little-endian.
enum CRC32C {
    private static let table: [UInt32] = (0 ..< 256).map { index in
        var value = UInt32(index)
        for _ in 0 ..< 8 { value = value & 1 != 0 ? (value >> 1) ^ 0x82F6_3B78 : value >> 1 }
        return value
    }

    /// The checksum of `bytes` with the four bytes at `field` taken as zeros.
    static func checksum(_ bytes: [UInt8], excludingFieldAt field: Int) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        bytes.withUnsafeBufferPointer { buffer in
            table.withUnsafeBufferPointer { table in
                for index in buffer.indices {
                    let byte = index >= field && index < field + 4 ? 0 : buffer[index]
                    crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
                }
            }
        }
        return ~crc
    }

    /// Whether the little-endian checksum stored at `field` matches the bytes.
    static func matches(_ bytes: [UInt8], field: Int) -> Bool {
        guard field >= 0, field + 4 <= bytes.count else { return false }
        let stored = UInt32(bytes[field]) | UInt32(bytes[field + 1]) << 8 | UInt32(bytes[field + 2]) << 16 | UInt32(bytes[field + 3]) << 24
        return stored == checksum(bytes, excludingFieldAt: field)
    }
}
