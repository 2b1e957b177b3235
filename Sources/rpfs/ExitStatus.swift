import KeyManagement
import RecoveryPoint
import VirtualDisk

/// The one place where errors become exit codes (documented in README.md).
enum ExitStatus: Int32 {
    case ok = 0
    case error = 1
    case usage = 2
    case refused = 3
    case key = 4
    case integrity = 5
    case notFound = 6

    /// The status for an rpfs error; nil for errors of the argument parser.
    init?(for error: any Error) {
        switch error {
        case let error as RecoveryPointError: self = Self(error)
        case let error as KeyError: self = Self(error)
        case let error as DiskReadError: self = Self(error)
        case let error as CommandError: self = error.status
        default: return nil
        }
    }

    private init(_ error: KeyError) {
        switch error {
        case .invalidIdentifier: self = .usage
        default: self = .key
        }
    }

    private init(_ error: RecoveryPointError) {
        switch error {
        case .notAStore, .pointNotFound: self = .notFound
        case .ambiguousPoint, .invalidArgument: self = .usage
        case .malformedPoint, .unsupportedFormatVersion, .metadataTampered, .chunkMissing, .chunkDamaged: self = .integrity
        case .key: self = .key
        case let .io(system): self = system.isNotFound ? .notFound : .error
        case .chunkUnreadable, .crypto: self = .error
        }
    }

    private init(_ error: DiskReadError) {
        switch error {
        case let .chunk(inner): self = Self(inner)
        case .outOfRange, .io: self = .error
        }
    }
}

/// A failure the command itself detects, with the status it should exit with.
struct CommandError: Error, CustomStringConvertible {
    let status: ExitStatus
    let description: String
}
