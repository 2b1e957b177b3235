/// Bounds-checked little-endian reads over untrusted bytes.
///
/// Every failure names the absolute position (`origin` + offset) so that an error about a
/// corrupt structure says where on the disk or in the file it was found.
public struct ByteReader: Sendable {
    public let bytes: [UInt8]
    /// Absolute position of `bytes[0]` in whatever the bytes came from, for error messages.
    public let origin: UInt64
    /// The cursor: where the next read starts.
    public var offset: Int { cursor }
    @usableFromInline var cursor = 0

    public init(_ bytes: [UInt8], origin: UInt64 = 0) {
        self.bytes = bytes
        self.origin = origin
    }

    public var remaining: Int { bytes.count - offset }
    public var isAtEnd: Bool { offset == bytes.count }

    @usableFromInline
    func position(_ at: Int) -> UInt64 { origin &+ UInt64(at) }

    @inlinable
    public mutating func seek(to newOffset: Int) throws(ByteParsingError) {
        guard newOffset >= 0, newOffset <= bytes.count else {
            throw .truncated(what: "seek target", at: position(offset), needed: newOffset, available: bytes.count)
        }
        cursor = newOffset
    }

    public mutating func bytes(_ count: Int, _ what: String) throws(ByteParsingError) -> [UInt8] {
        guard count >= 0, count <= remaining else {
            throw .truncated(what: what, at: position(offset), needed: count, available: remaining)
        }
        let slice = Array(bytes[offset ..< offset + count])
        cursor += count
        return slice
    }

    public mutating func skip(_ count: Int, _ what: String) throws(ByteParsingError) {
        guard count >= 0, count <= remaining else {
            throw .truncated(what: what, at: position(offset), needed: count, available: remaining)
        }
        cursor += count
    }

    @inlinable
    public mutating func u8(_ what: String) throws(ByteParsingError) -> UInt8 {
        try integer(what)
    }

    @inlinable
    public mutating func u16(_ what: String) throws(ByteParsingError) -> UInt16 {
        try integer(what)
    }

    @inlinable
    public mutating func u32(_ what: String) throws(ByteParsingError) -> UInt32 {
        try integer(what)
    }

    @inlinable
    public mutating func u64(_ what: String) throws(ByteParsingError) -> UInt64 {
        try integer(what)
    }

    public mutating func i64(_ what: String) throws(ByteParsingError) -> Int64 {
        Int64(bitPattern: try integer(what) as UInt64)
    }

    /// Reads a little-endian integer of `T`'s width. Inlinable so that callers in other
    /// modules get a specialised loop instead of generic witness calls per byte.
    @inlinable
    public mutating func integer<T: FixedWidthInteger & UnsignedInteger>(_ what: String) throws(ByteParsingError) -> T {
        let width = MemoryLayout<T>.size
        guard width <= remaining else {
            throw .truncated(what: what, at: position(offset), needed: width, available: remaining)
        }
        var value: T = 0
        for index in 0 ..< width {
            value |= T(bytes[offset + index]) << (8 * index)
        }
        cursor += width
        return value
    }

    /// Reads an unsigned LEB128 integer (7 bits a byte, low bits first, the top bit set on
    /// every byte but the last) of at most 64 bits: what compact record formats use.
    @inlinable
    public mutating func leb128(_ what: String) throws(ByteParsingError) -> UInt64 {
        var value: UInt64 = 0
        var index = cursor
        for shift in stride(from: UInt64(0), through: 63, by: 7) {
            guard index < bytes.count else {
                throw .truncated(what: what, at: position(cursor), needed: index - cursor + 1, available: bytes.count - cursor)
            }
            let byte = bytes[index]
            index += 1
            let bits = UInt64(byte & 0x7F)
            // The tenth byte holds bit 63 only.
            guard shift < 63 || bits <= 1 else { break }
            value |= bits << shift
            if byte & 0x80 == 0 {
                cursor = index
                return value
            }
        }
        throw .invalid(what: what, at: position(cursor), reason: "a LEB128 integer over 64 bits")
    }

    /// Reads `count` bytes that must be valid UTF-8.
    public mutating func utf8(_ count: Int, _ what: String) throws(ByteParsingError) -> String {
        let start = position(offset)
        let raw = try bytes(count, what)
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw .invalid(what: what, at: start, reason: "not valid UTF-8")
        }
        return text
    }

    /// Little-endian integer at a fixed offset without moving the cursor.
    @inlinable
    public func integer<T: FixedWidthInteger & UnsignedInteger>(at position: Int, _ what: String) throws(ByteParsingError) -> T {
        var copy = self
        try copy.seek(to: position)
        return try copy.integer(what)
    }
}
