import BlockDevices

/// Why a volume operation failed. Corruption names what and where; refusal says why the
/// bytes cannot be shown (encrypted by the guest, not by rpfs).
public enum VolumeError: Error, Sendable, CustomStringConvertible {
    case notFound(String)
    case notADirectory(String)
    case notASymlink(String)
    case isADirectory(String)
    case invalidName(String)
    /// On-disk structures contradict themselves: which structure, where, what was expected.
    case corrupt(String)
    /// Readable bytes that must not be shown as data: fscrypt directories, EFS files.
    case refused(String)
    case unsupported(String)
    /// The blocks under the volume could not be read (including chunk integrity failures).
    case device(DiskReadError)

    public var description: String {
        switch self {
        case let .notFound(what): "\(what): no such file or directory"
        case let .notADirectory(what): "\(what): not a directory"
        case let .notASymlink(what): "\(what): not a symbolic link"
        case let .isADirectory(what): "\(what): is a directory"
        case let .invalidName(name): "invalid file name '\(name)' (empty, '.', '..', NUL or '/' in it, or over 255 bytes)"
        case let .corrupt(what): "corrupt volume: \(what)"
        case let .refused(why): "refused: \(why)"
        case let .unsupported(what): "unsupported: \(what)"
        case let .device(error): "\(error)"
        }
    }
}
