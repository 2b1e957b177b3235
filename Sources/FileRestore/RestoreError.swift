import POSIXFiles
import PointNamespace

public enum RestoreError: Error, Sendable, CustomStringConvertible {
    /// Reading from the point failed (refusal, missing key, integrity error, missing path).
    case source(NamespaceError)
    /// Writing the destination failed.
    case destination(SystemError)
    /// The destination exists and --force was not given.
    case exists(String)
    case usage(String)
    /// A plan that cannot be followed: bad JSON, a relative path, a destination that climbs out.
    case plan(String)
    /// Something that cannot be restored by its nature (a socket, a device node without root).
    case unsupported(String)

    public var description: String {
        switch self {
        case let .source(error): error.description
        case let .destination(error): "cannot write \(error.path): \(error)"
        case let .exists(path): "\(path) exists (use --force to overwrite)"
        case let .usage(message): message
        case let .plan(message): "bad plan: \(message)"
        case let .unsupported(message): message
        }
    }
}
