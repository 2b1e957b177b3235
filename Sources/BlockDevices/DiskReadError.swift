import POSIXFiles

/// Why a read of a block device failed. The layer that provides the bytes (a recovery point's
/// decrypted disk, a plaintext image) reports its own failure as an opaque `DeviceFault`, so
/// nothing above this layer needs to know where bytes come from to say what went wrong.
public enum DiskReadError: Error, Sendable, CustomStringConvertible {
    /// A read reached past the end of the device: a caller's bug or a corrupt structure
    /// that points outside the disk.
    case outOfRange(offset: UInt64, count: Int, size: UInt64)
    case io(SystemError)
    /// The source of the bytes failed: a chunk missing, damaged or unreadable.
    case source(any DeviceFault)

    public var description: String {
        switch self {
        case let .outOfRange(offset, count, size):
            "read of \(count) bytes at \(offset) is outside the device (\(size) bytes)"
        case let .io(error):
            error.description
        case let .source(fault):
            fault.description
        }
    }

    /// The bytes behind the read are damaged or missing (not a usage or system error).
    public var isDamage: Bool {
        if case let .source(fault) = self { return fault.isDamage }
        return false
    }
}

/// A failure of whatever provides a device's bytes, carried up unchanged for the one place
/// that turns errors into exit codes and errnos.
public protocol DeviceFault: Error, Sendable, CustomStringConvertible {
    /// True when the stored bytes are missing, truncated or fail authentication.
    var isDamage: Bool { get }
}
