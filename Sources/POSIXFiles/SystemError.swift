#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: which operation, on what path, and the errno it returned.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let errno: Int32

    public init(_ operation: String, path: String, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public var isNotFound: Bool { errno == ENOENT }
    public var isPermissionDenied: Bool { errno == EACCES || errno == EPERM }

    public var description: String {
        "\(operation) \(path): \(String(cString: strerror(errno)))"
    }
}

/// Runs a system call, retrying on EINTR, and throws its errno on failure. Operation and
/// path are built only for an error: restoring small files makes several calls per file,
/// and formatting their paths up front would cost time on every call.
@discardableResult
func retryingOnInterrupt<T: BinaryInteger>(_ operation: @autoclosure () -> String, path: @autoclosure () -> String,
                                           _ call: () -> T) throws(SystemError) -> T {
    while true {
        let result = call()
        if result >= 0 { return result }
        let code = Glibc.errno
        if code != EINTR { throw SystemError(operation(), path: path(), errno: code) }
    }
}
