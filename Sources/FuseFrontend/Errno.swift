#if canImport(Glibc)
import Glibc
#endif
import PointNamespace
import VolumeModel

/// The one place where errors become errnos for the kernel.
enum Errno {
    static func of(_ error: NamespaceError) -> Int32 {
        switch error {
        case .notFound: ENOENT
        case .notADirectory: ENOTDIR
        case .invalidPath: EINVAL
        // A volume rpfs lists but cannot read: its directory has nothing to show.
        case .volumeUnavailable: EOPNOTSUPP
        case .refused: EACCES
        case .point, .device: EIO
        case let .volume(_, inner): of(inner)
        }
    }

    static func of(_ error: VolumeError) -> Int32 {
        switch error {
        case .notFound: ENOENT
        case .notADirectory: ENOTDIR
        case .notASymlink: EINVAL
        case .isADirectory: EISDIR
        case .refused: EACCES
        case .unsupported: EOPNOTSUPP
        // Corruption and unreadable or unauthenticated chunks: the classic "I/O error".
        case .invalidName, .corrupt, .device: EIO
        }
    }
}
