
/// Fixed-offset field access for on-disk structures, whose layouts are tables of offsets.
extension ByteReader {
    public func bytes(at offset: Int, count: Int, _ what: String) throws(ByteParsingError) -> [UInt8] {
        var copy = self
        try copy.seek(to: offset)
        return try copy.bytes(count, what)
    }

    /// Whether the bytes at `offset` are `expected`; false when they run past the end.
    public func matches(_ expected: [UInt8], at offset: Int) -> Bool {
        offset >= 0 && offset <= bytes.count - expected.count
            && bytes[offset ..< offset + expected.count].elementsEqual(expected)
    }

    /// Big-endian integer (LUKS, XFS), the mirror of `integer(at:_:)`.
    public func bigEndian<T: FixedWidthInteger & UnsignedInteger>(at offset: Int, _ what: String) throws(ByteParsingError) -> T {
        let raw: T = try integer(at: offset, what)
        return T(bigEndian: raw)
    }

    /// A fixed-size text field padded with NULs or spaces; nil when blank. Invalid UTF-8 is
    /// replaced rather than rejected: a label is shown to people, never trusted.
    public func text(at offset: Int, count: Int, _ what: String) throws(ByteParsingError) -> String? {
        let raw = try bytes(at: offset, count: count, what)
        let content = raw.prefix { $0 != 0 }
        var text = String(decoding: content, as: UTF8.self)
        while text.last == " " { text.removeLast() }
        return text.isEmpty ? nil : text
    }
}
