import POSIXFiles
import RecoveryPoint

public enum DiskReadError: Error, Sendable, CustomStringConvertible {
    /// A read reached past the end of the device: a caller's bug or a corrupt structure
    /// that points outside the disk.
    case outOfRange(offset: UInt64, count: Int, size: UInt64)
    /// The chunk behind these bytes is missing, damaged or unreadable.
    case chunk(RecoveryPointError)
    case io(SystemError)

    public var description: String {
        switch self {
        case let .outOfRange(offset, count, size):
            "read of \(count) bytes at \(offset) is outside the device (\(size) bytes)"
        case let .chunk(error):
            error.description
        case let .io(error):
            error.description
        }
    }
}
