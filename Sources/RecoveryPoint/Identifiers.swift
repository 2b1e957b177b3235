import ByteParsing
import Cryptography

/// A fixed-size binary id shown as lower-case hex.
public protocol FixedSizeIdentifier: Hashable, Sendable, CustomStringConvertible {
    static var size: Int { get }
    var bytes: [UInt8] { get }
    /// For bytes whose length the caller has already fixed at `size`.
    init(uncheckedBytes bytes: [UInt8])
}

extension FixedSizeIdentifier {
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.size else { return nil }
        self.init(uncheckedBytes: bytes)
    }

    public init?(hex: String) {
        guard let bytes = Hex.decode(hex) else { return nil }
        self.init(bytes: bytes)
    }

    public var description: String { Hex.encode(bytes) }
}

/// A point's id: 16 bytes, the first 6 a big-endian millisecond timestamp so ids sort by
/// creation time, the other 10 random. Shown as 32 lower-case hex digits.
public struct PointID: FixedSizeIdentifier, Comparable {
    public static let size = 16
    public let bytes: [UInt8]

    public init(uncheckedBytes bytes: [UInt8]) {
        self.bytes = bytes
    }

    public static func generate(at unixMilliseconds: UInt64) throws(CryptoError) -> PointID {
        var bytes = (0 ..< 6).reversed().map { UInt8(truncatingIfNeeded: unixMilliseconds >> (8 * UInt64($0))) }
        bytes += try Random.bytes(10)
        return PointID(uncheckedBytes: bytes)
    }

    public static func < (lhs: PointID, rhs: PointID) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }
}

/// A chunk's id: HMAC-SHA256 of its plaintext under a key derived from the DEK, so equal
/// chunks share one id (and one stored object) while the id reveals nothing without the key.
public struct ChunkID: FixedSizeIdentifier {
    public static let size = 32
    public let bytes: [UInt8]

    public init(uncheckedBytes bytes: [UInt8]) {
        self.bytes = bytes
    }
}
