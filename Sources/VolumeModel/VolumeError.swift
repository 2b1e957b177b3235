import BlockDevices

/// Why a volume operation failed. Corruption names the volume, the structure, where it lies
/// when known and what is wrong; a device failure says which read of the volume failed and
/// for what; refusal says why the bytes cannot be shown (encrypted by the guest, not by rpfs).
public enum VolumeError: Error, Sendable, CustomStringConvertible {
    case notFound(String)
    case notADirectory(String)
    case notASymlink(String)
    case isADirectory(String)
    case invalidName(String)
    /// On-disk structures contradict themselves: in `volume`, `structure` ("MFT record 12",
    /// "inode 345", "superblock"), at volume byte `at` when known, `problem` says what was
    /// expected and what was found.
    case corrupt(volume: String, structure: String, at: UInt64? = nil, problem: String)
    /// Readable bytes that must not be shown as data: fscrypt directories, EFS files.
    case refused(String)
    case unsupported(String)
    /// The blocks under the volume could not be read (including chunk integrity failures):
    /// the device's error, and the read that met it when a reader made one.
    case device(DiskReadError, VolumeRead? = nil)

    public var description: String {
        switch self {
        case let .notFound(what): "\(what): no such file or directory"
        case let .notADirectory(what): "\(what): not a directory"
        case let .notASymlink(what): "\(what): not a symbolic link"
        case let .isADirectory(what): "\(what): is a directory"
        case let .invalidName(name): "invalid file name '\(name)' (empty, '.', '..', NUL or '/' in it, or over 255 bytes)"
        case let .corrupt(volume, structure, at, problem):
            "corrupt volume: \(volume): \(structure)\(at.map { " at volume byte \($0)" } ?? ""): \(problem)"
        case let .refused(why): "refused: \(why)"
        case let .unsupported(what): "unsupported: \(what)"
        case let .device(error, read): read.map { "\($0): \(error)" } ?? "\(error)"
        }
    }
}
