import ByteParsing

/// LDM stores its integers big-endian, and in VBLKs many fields are variable-length: a length
/// byte, then that many bytes (a big-endian number, or text).
extension ByteReader {
    mutating func bigEndian<T: FixedWidthInteger & UnsignedInteger>(_ what: String) throws(ByteParsingError) -> T {
        (try integer(what) as T).byteSwapped
    }

    func bigEndian<T: FixedWidthInteger & UnsignedInteger>(at position: Int, _ what: String) throws(ByteParsingError) -> T {
        (try integer(at: position, what) as T).byteSwapped
    }

    /// A variable-length number of at most `T`'s width.
    mutating func variableNumber<T: FixedWidthInteger & UnsignedInteger>(_ what: String) throws(ByteParsingError) -> T {
        let start = origin &+ UInt64(offset)
        let length = Int(try u8("\(what) length"))
        guard length <= MemoryLayout<T>.size else {
            throw .invalid(what: what, at: start, reason: "\(length) bytes for a \(MemoryLayout<T>.size)-byte number")
        }
        var value: T = 0
        for byte in try bytes(length, what) {
            value = value << 8 | T(byte)
        }
        return value
    }

    /// A variable-length string; bytes that are not UTF-8 are replaced, as names are only shown.
    mutating func variableText(_ what: String) throws(ByteParsingError) -> String {
        let length = Int(try u8("\(what) length"))
        return String(decoding: try bytes(length, what), as: UTF8.self)
    }

    /// A fixed-size text field padded with NULs.
    func paddedText(at position: Int, count: Int, _ what: String) throws(ByteParsingError) -> String {
        var copy = self
        try copy.seek(to: position)
        let raw = try copy.bytes(count, what)
        return String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }

    func hasMagic(_ magic: String, at position: Int) -> Bool {
        let expected = Array(magic.utf8)
        return position >= 0 && position + expected.count <= bytes.count && Array(bytes[position ..< position + expected.count]) == expected
    }
}
