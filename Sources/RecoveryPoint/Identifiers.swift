import ByteParsing
import Cryptography

/// A point's id: 16 bytes, the first 6 a big-endian millisecond timestamp so ids sort by
/// creation time, the other 10 random. Shown as 32 lower-case hex digits.
public struct PointID: Hashable, Sendable, CustomStringConvertible, Comparable {
    public static let size = 16
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.size else { return nil }
        self.bytes = bytes
    }

    public init?(hex: String) {
        guard let bytes = Hex.decode(hex) else { return nil }
        self.init(bytes: bytes)
    }

    public static func generate(at unixMilliseconds: UInt64) throws(CryptoError) -> PointID {
        var bytes = (0 ..< 6).reversed().map { UInt8(truncatingIfNeeded: unixMilliseconds >> (8 * UInt64($0))) }
        bytes += try Random.bytes(10)
        return PointID(unchecked: bytes)
    }

    private init(unchecked bytes: [UInt8]) {
        self.bytes = bytes
    }

    public var description: String { Hex.encode(bytes) }

    public static func < (lhs: PointID, rhs: PointID) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }
}

/// A chunk's id: HMAC-SHA256 of its plaintext under a key derived from the DEK, so equal
/// chunks share one id (and one stored object) while the id reveals nothing without the key.
public struct ChunkID: Hashable, Sendable, CustomStringConvertible {
    public static let size = 32
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.size else { return nil }
        self.bytes = bytes
    }

    public init?(hex: String) {
        guard let bytes = Hex.decode(hex) else { return nil }
        self.init(bytes: bytes)
    }

    /// For bytes whose length the caller has already fixed at `size`.
    init(uncheckedBytes bytes: [UInt8]) {
        self.bytes = bytes
    }

    public var description: String { Hex.encode(bytes) }
}
