/// What went wrong while reading untrusted bytes, and where.
public enum ByteParsingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Fewer bytes than a field needs.
    case truncated(what: String, at: UInt64, needed: Int, available: Int)
    /// A field holds a value outside what the format allows.
    case invalid(what: String, at: UInt64, reason: String)
    /// Arithmetic on on-disk values would overflow.
    case overflow(what: String)

    public var description: String {
        switch self {
        case let .truncated(what, at, needed, available):
            "\(what) at byte \(at): needs \(needed) bytes, only \(available) left"
        case let .invalid(what, at, reason):
            "\(what) at byte \(at): \(reason)"
        case let .overflow(what):
            "\(what): value out of range"
        }
    }
}
