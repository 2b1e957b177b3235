import Archives
import BlockDevices
import Catalog
import FileRestore
import KeyManagement
import POSIXFiles
import PointDisk
import PointNamespace
import RecoveryPoint
import WebFrontend
import VolumeModel

/// The one place where errors become exit codes (documented in rpfs(1), EXIT STATUS, and README.md).
enum ExitStatus: Int32 {
    case ok = 0
    case error = 1
    case usage = 2
    case refused = 3
    case key = 4
    case integrity = 5
    case notFound = 6
    /// `restore` restored some of its plan but not all of it.
    case partial = 7

    /// The status for an rpfs error; nil for errors of the argument parser.
    init?(for error: any Error) {
        switch error {
        case let error as RecoveryPointError: self = Self(error)
        case let error as KeyError: self = Self(error)
        case let error as DiskReadError: self = Self(error)
        case let error as NamespaceError: self = Self(error)
        case let error as VolumeError: self = Self(error)
        case is Refusal: self = .refused
        case let error as RestoreError: self = Self(error)
        case let error as CatalogError: self = Self(error)
        case let error as ArchiveError: self = Self(error)
        case let error as ServeError: self = Self(error)
        case let error as SystemError: self = Self(error)
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
        case .notAStore, .pointNotFound, .catalogMissing: self = .notFound
        case .ambiguousPoint, .invalidArgument: self = .usage
        case .malformedPoint, .unsupportedFormatVersion, .metadataTampered, .chunkMissing, .chunkDamaged, .catalogDamaged: self = .integrity
        case .key: self = .key
        case let .io(system): self = Self(system)
        case .chunkUnreadable, .chunkUnavailable, .crypto: self = .error
        case let .store(fault): self = Self(fault)
        }
    }

    private init(_ fault: any StoreFault) {
        switch fault.kind {
        case .notFound: self = .notFound
        case .unsupported: self = .usage
        case .accessDenied, .unavailable, .badResponse: self = .error
        }
    }

    private init(_ error: NamespaceError) {
        switch error {
        case .refused: self = .refused
        case let .point(inner): self = Self(inner)
        case .notFound: self = .notFound
        case .invalidPath: self = .usage
        case .notADirectory, .volumeUnavailable: self = .error
        case let .volume(_, inner): self = Self(inner)
        case let .device(_, inner): self = Self(inner)
        }
    }

    private init(_ error: CatalogError) {
        switch error {
        case let .point(inner): self = Self(inner)
        case let .namespace(inner): self = Self(inner)
        case .malformed: self = .integrity
        case .tooLarge: self = .error
        }
    }

    private init(_ error: RestoreError) {
        switch error {
        case let .source(inner): self = Self(inner)
        case .destination, .exists: self = .error
        case .usage, .plan: self = .usage
        case .unsupported: self = .error
        }
    }

    private init(_ error: ArchiveError) {
        switch error {
        case let .source(inner): self = Self(inner)
        case .output, .pathTooLong: self = .error
        }
    }

    private init(_ error: ServeError) {
        switch error {
        case .refused: self = .usage
        case .configuration, .server: self = .error
        }
    }

    private init(_ error: VolumeError) {
        switch error {
        case .notFound: self = .notFound
        case .refused: self = .refused
        case let .device(inner, _): self = Self(inner)
        case .notADirectory, .notASymlink, .isADirectory, .invalidName, .corrupt, .unsupported: self = .error
        }
    }

    private init(_ error: DiskReadError) {
        switch error {
        case let .source(fault as ChunkFailure): self = Self(fault.error)
        case let .source(fault): self = fault.isDamage ? .integrity : .error
        case let .io(system): self = Self(system)
        case .outOfRange: self = .error
        }
    }

    private init(_ error: SystemError) {
        self = error.isNotFound ? .notFound : .error
    }
}

/// A failure the command itself detects, with the status it should exit with.
struct CommandError: Error, CustomStringConvertible {
    let status: ExitStatus
    let description: String
}
