/// One path component as the filesystem stores it: bytes, not necessarily UTF-8.
/// Validated before it can become part of a path: never empty, never "." or "..", no NUL,
/// no '/', at most 255 bytes. A name from disk that breaks these rules is corruption.
public struct FileName: Hashable, Sendable, Comparable, CustomStringConvertible {
    public static let maxLength = 255
    public let bytes: [UInt8]

    public init(validating bytes: [UInt8]) throws(VolumeError) {
        guard Self.isValid(bytes) else {
            throw .invalidName(String(decoding: bytes, as: UTF8.self))
        }
        self.bytes = bytes
    }

    public init(validating text: String) throws(VolumeError) {
        try self.init(validating: Array(text.utf8))
    }

    public static func isValid(_ bytes: [UInt8]) -> Bool {
        !bytes.isEmpty && bytes.count <= maxLength && bytes != [0x2E] && bytes != [0x2E, 0x2E]
            && !bytes.contains(0) && !bytes.contains(0x2F)
    }

    /// The name as text; invalid UTF-8 shows as U+FFFD (for display, never for paths).
    public var description: String { String(decoding: bytes, as: UTF8.self) }

    public static func < (lhs: FileName, rhs: FileName) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }
}
