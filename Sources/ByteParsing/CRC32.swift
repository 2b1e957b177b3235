/// CRC-32 with the IEEE 802.3 polynomial (the zlib/PNG one), as GPT uses for its header and
/// entry array, LVM2 for its label, metadata area header and text, and zip for each member. Slicing by eight: eight table lookups per eight
/// bytes, so a zip of gigabytes is not held back by its checksum.
public enum CRC32 {
    /// Eight tables of 256: table 0 is the byte-at-a-time table, table k advances a byte
    /// that is k positions further back.
    private static let tables: [UInt32] = {
        var tables = table(reflectedPolynomial: 0xEDB8_8320) + [UInt32](repeating: 0, count: 7 * 256)
        for slice in 1 ..< 8 {
            for index in 0 ..< 256 {
                let previous = tables[(slice - 1) * 256 + index]
                tables[slice * 256 + index] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }()

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

    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        ~update(0xFFFF_FFFF, with: bytes)
    }

    /// The bare register update, with no initial or final inversion: LVM2's `calc_crc`
    /// starts from its own initial value and returns the register as it is.
    public static func update(_ register: UInt32, with bytes: some Sequence<UInt8>) -> UInt32 {
        tables.withUnsafeBufferPointer { table in update(register, with: bytes, table: table) }
    }

    static func update(_ register: UInt32, with bytes: some Sequence<UInt8>, table: UnsafeBufferPointer<UInt32>) -> UInt32 {
        var crc = register
        for byte in bytes {
            crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return crc
    }

    /// The running CRC after `bytes`, continuing from `crc` (0 to start; the result of one
    /// call is the `crc` of the next).
    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var value = ~crc
        tables.withUnsafeBufferPointer { table in
            var index = 0
            let count = bytes.count
            while count - index >= 8 {
                let low = UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16 | UInt32(bytes[index + 3]) << 24
                let one = value ^ low
                value = table[7 * 256 + Int(one & 0xFF)] ^ table[6 * 256 + Int((one >> 8) & 0xFF)]
                    ^ table[5 * 256 + Int((one >> 16) & 0xFF)] ^ table[4 * 256 + Int(one >> 24)]
                    ^ table[3 * 256 + Int(bytes[index + 4])] ^ table[2 * 256 + Int(bytes[index + 5])]
                    ^ table[256 + Int(bytes[index + 6])] ^ table[Int(bytes[index + 7])]
                index += 8
            }
            while index < count {
                value = table[Int((value ^ UInt32(bytes[index])) & 0xFF)] ^ (value >> 8)
                index += 1
            }
        }
        return ~value
    }

    /// The running CRC after `count` zero bytes, continuing from `crc`, in O(log count): the
    /// register times x^(8 count) modulo the polynomial, as zlib's crc32_combine does it. A
    /// hole of gigabytes in a zip member costs no pass over zeros.
    public static func zeros(_ crc: UInt32, count: UInt64) -> UInt32 {
        var register = ~crc
        var remaining = count
        var power = 3
        while remaining != 0 {
            if remaining & 1 == 1 { register = multiply(powersOfX[power & 63], register) }
            remaining >>= 1
            power += 1
        }
        return ~register
    }

    /// x^(2^k) modulo the polynomial, in the reflected bit order of the register.
    private static let powersOfX: [UInt32] = {
        var powers = [UInt32(1) << 30]
        for _ in 1 ..< 64 { powers.append(multiply(powers[powers.count - 1], powers[powers.count - 1])) }
        return powers
    }()

    /// a times b modulo the polynomial, both reflected (bit 31 is x^0).
    private static func multiply(_ a: UInt32, _ b: UInt32) -> UInt32 {
        var m: UInt32 = 1 << 31
        var product: UInt32 = 0
        var b = b
        while m != 0 {
            if a & m != 0 {
                product ^= b
                if a & (m - 1) == 0 { break }
            }
            m >>= 1
            b = b & 1 == 1 ? (b >> 1) ^ 0xEDB8_8320 : b >> 1
        }
        return product
    }
}

/// CRC-32C (Castagnoli polynomial, reflected), as the device-mapper persistent-data format
/// (thin-pool metadata) checksums its blocks.
public enum CRC32C {
    private static let table = CRC32.table(reflectedPolynomial: 0x82F6_3B78)

    /// The standard CRC-32C: register starts at all ones, result inverted.
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        ~table.withUnsafeBufferPointer { CRC32.update(0xFFFF_FFFF, with: bytes, table: $0) }
    }
}
