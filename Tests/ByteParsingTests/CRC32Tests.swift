import ByteParsing
import Testing

@Suite struct CRC32Tests {
    @Test func knownVectors() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
        #expect(CRC32.checksum([UInt8](repeating: 0, count: 32)) == 0x190A_55AD)
        #expect(Array("123456789".utf8).withUnsafeBytes { CRC32.update(0, $0) } == 0xCBF4_3926)
    }

    @Test func castagnoliVectors() {
        // RFC 3720, B.4: CRC-32C check value, and 32 bytes of zeros.
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
    }

    /// Eight bytes at a time gives what one byte at a time gives, for every length around the
    /// eight-byte steps and however the bytes are split between calls.
    @Test func slicedUpdatesMatchTheBytewiseChecksum() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let bytes = (0 ..< 1000).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        for length in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 999, 1000] {
            let prefix = Array(bytes[0 ..< length])
            let expected = CRC32.checksum(prefix)
            #expect(prefix.withUnsafeBytes { CRC32.update(0, $0) } == expected, "length \(length)")
            for split in [0, 1, 3, 8, length / 2, length] where split <= length {
                let first = prefix[0 ..< split].withUnsafeBytes { CRC32.update(0, $0) }
                let both = prefix[split...].withUnsafeBytes { CRC32.update(first, $0) }
                #expect(both == expected, "length \(length) split at \(split)")
            }
        }
    }

    /// Zeros by arithmetic give what zeros byte by byte give, from any starting CRC.
    @Test func zerosMatchZeroBytes() {
        for start in [UInt32(0), CRC32.checksum(Array("123456789".utf8))] {
            for count in [0, 1, 2, 7, 8, 100, 4096, 65537] {
                let bytes = [UInt8](repeating: 0, count: count)
                #expect(CRC32.zeros(start, count: UInt64(count)) == bytes.withUnsafeBytes { CRC32.update(start, $0) }, "\(count) zeros after \(start)")
            }
        }
    }
}
