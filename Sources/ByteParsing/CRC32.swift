/// CRC-32 with the IEEE 802.3 polynomial (the zlib/PNG one, reflected), as GPT uses for its
/// header and entry array and LVM2 for its label, metadata area header and metadata text.
/// Table-driven: one lookup per byte.
public enum CRC32 {
    private static let table = table(reflectedPolynomial: 0xEDB8_8320)

    /// The byte table of a reflected CRC-32 polynomial.
    static func table(reflectedPolynomial polynomial: UInt32) -> [UInt32] {
        (0 ..< 256).map { index in
            var value = UInt32(index)
            for _ in 0 ..< 8 {
                value = value & 1 == 1 ? (value >> 1) ^ polynomial : value >> 1
            }
            return value
        }
    }

    /// The standard CRC-32: register starts at all ones, result inverted.
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        ~update(0xFFFF_FFFF, with: bytes)
    }

    /// The bare register update, with no initial or final inversion: LVM2's `calc_crc`
    /// starts from its own initial value and returns the register as it is.
    public static func update(_ register: UInt32, with bytes: some Sequence<UInt8>) -> UInt32 {
        update(register, with: bytes, table: table)
    }

    static func update(_ register: UInt32, with bytes: some Sequence<UInt8>, table: [UInt32]) -> UInt32 {
        var crc = register
        for byte in bytes {
            crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return crc
    }
}

/// CRC-32C (Castagnoli polynomial, reflected), as the device-mapper persistent-data format
/// (thin-pool metadata) checksums its blocks.
public enum CRC32C {
    private static let table = CRC32.table(reflectedPolynomial: 0x82F6_3B78)

    /// The standard CRC-32C: register starts at all ones, result inverted.
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        ~CRC32.update(0xFFFF_FFFF, with: bytes, table: table)
    }
}
