import ByteParsing
import Testing

@Suite struct ByteReaderTests {
    @Test func readsLittleEndianIntegers() throws {
        var reader = ByteReader([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F])
        #expect(try reader.u8("a") == 0x01)
        #expect(try reader.u16("b") == 0x0302)
        #expect(try reader.u32("c") == 0x0706_0504)
        #expect(try reader.u64("d") == 0x0F0E_0D0C_0B0A_0908)
        #expect(reader.isAtEnd)
    }

    @Test func truncationNamesTheFieldAndAbsolutePosition() {
        var reader = ByteReader([1, 2, 3], origin: 1000)
        #expect(throws: ByteParsingError.truncated(what: "size", at: 1000, needed: 4, available: 3)) {
            try reader.u32("size")
        }
        #expect(throws: ByteParsingError.self) { try reader.bytes(-1, "negative") }
        #expect(throws: ByteParsingError.self) { try reader.seek(to: 4) }
    }

    @Test func readsLEB128IntegersUpTo64Bits() throws {
        // The vectors of the LEB128 definition (DWARF 5, 7.6), and the 64-bit ends.
        let cases: [([UInt8], UInt64)] = [([0x02], 2), ([0x7F], 127), ([0x80, 0x01], 128), ([0x81, 0x01], 129),
                                          ([0x82, 0x01], 130), ([0xB9, 0x64], 12857), ([0x00], 0),
                                          (Array(repeating: 0xFF, count: 9) + [0x01], .max)]
        for (bytes, value) in cases {
            var reader = ByteReader(bytes + [0xAA])
            #expect(try reader.leb128("n") == value, "\(bytes)")
            #expect(reader.remaining == 1)
        }
        var tooWide = ByteReader(Array(repeating: 0xFF, count: 9) + [0x02])
        #expect(throws: ByteParsingError.self) { try tooWide.leb128("n") }
        var endless = ByteReader(Array(repeating: 0x80, count: 12))
        #expect(throws: ByteParsingError.self) { try endless.leb128("n") }
        var cut = ByteReader([0x80, 0x80], origin: 50)
        #expect(throws: ByteParsingError.truncated(what: "n", at: 50, needed: 3, available: 2)) { try cut.leb128("n") }
        #expect(cut.offset == 0)
    }

    @Test func rejectsInvalidUTF8() {
        var reader = ByteReader([0xFF, 0xFE])
        #expect(throws: ByteParsingError.self) { try reader.utf8(2, "name") }
    }

    @Test func checkedArithmeticThrowsInsteadOfTrapping() throws {
        #expect(throws: ByteParsingError.overflow(what: "x")) { try Checked.add(UInt64.max, 1, "x") }
        #expect(throws: ByteParsingError.overflow(what: "y")) { try Checked.multiply(Int.max, 2, "y") }
        #expect(throws: ByteParsingError.overflow(what: "z")) { try Checked.convert(UInt64.max, to: Int.self, "z") }
        #expect(try Checked.add(2, 3, "ok") == 5)
    }

    @Test func writerMirrorsReader() throws {
        var writer = ByteWriter()
        writer.append(UInt16(0xBEEF))
        writer.append(Int64(-2))
        writer.append(bytes: [9, 8])
        var reader = ByteReader(writer.bytes)
        #expect(try reader.u16("a") == 0xBEEF)
        #expect(try reader.i64("b") == -2)
        #expect(try reader.bytes(2, "c") == [9, 8])
    }

    @Test func hexRoundTripAndRejection() {
        #expect(Hex.encode([0x00, 0xAB, 0xFF]) == "00abff")
        #expect(Hex.decode("00ABff") == [0x00, 0xAB, 0xFF])
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
    }

    @Test(arguments: ["disk0", "backup-kek_1.2", String(repeating: "a", count: 64)])
    func safeNamesAccepted(_ name: String) {
        #expect(SafeName.isValid(name))
    }

    @Test(arguments: ["", ".", "..", ".hidden", "a/b", "a\0b", "é", String(repeating: "a", count: 65), "a b"])
    func unsafeNamesRejected(_ name: String) {
        #expect(!SafeName.isValid(name))
    }
}
