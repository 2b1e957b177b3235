import BlockDevices
import KeyManagement
import RecoveryPoint
import VolumeModel

public enum NamespaceError: Error, Sendable, CustomStringConvertible {
    /// The point or its volumes are guest-encrypted.
    case refused(Refusal)
    case point(RecoveryPointError)
    /// A path that names nothing.
    case notFound(String)
    case notADirectory(String)
    case invalidPath(String, reason: String)
    /// A volume that rpfs lists but cannot read (unsupported kind, skipped, failed to open).
    case volumeUnavailable(path: String, reason: String)
    /// A volume's reader failed at `path`.
    case volume(path: String, VolumeError)
    /// The bytes under `path` (a disk's partition table) could not be read.
    case device(path: String, DiskReadError)

    /// The stored bytes behind the answer are damaged or missing: a chunk that fails
    /// authentication, is truncated or is not there.
    public var isDamage: Bool {
        switch self {
        case let .point(error): error.isDamage
        case let .volume(_, .device(error, _)), let .device(_, error): error.isDamage
        case .refused, .notFound, .notADirectory, .invalidPath, .volumeUnavailable, .volume: false
        }
    }

    public var description: String {
        switch self {
        case let .refused(refusal): refusal.description
        case let .point(error): error.description
        case let .notFound(path): "\(path): no such file or directory"
        case let .notADirectory(path): "\(path): not a directory"
        case let .invalidPath(path, reason): "\(path): \(reason)"
        case let .volumeUnavailable(path, reason): "\(path): \(reason)"
        case let .volume(path, error): "\(path): \(error)"
        case let .device(path, error): "\(path): \(error)"
        }
    }
}
