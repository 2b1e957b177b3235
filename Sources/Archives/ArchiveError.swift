import PointNamespace

/// Why an archive could not be written whole. Any of these ends the archive where it stands:
/// its end records are never written, so no extractor takes the partial output for a whole
/// archive (docs/ARCHIVES.md, *Errors*).
public enum ArchiveError: Error, Sendable, CustomStringConvertible {
    /// The point could not give a member (a damaged chunk, a corrupt structure).
    case source(NamespaceError)
    /// Where the archive goes failed (a full disk, a client that went away).
    case output(String)
    /// A member path longer than any system extracts (PATH_MAX): a directory loop in a
    /// corrupt volume, or names no extractor could create.
    case pathTooLong(String)

    public var description: String {
        switch self {
        case let .source(error): error.description
        case let .output(what): "writing the archive: \(what)"
        case let .pathTooLong(path): "\(path): path too long for an archive (over \(ArchiveWalk.maxPathBytes) bytes; a directory loop?)"
        }
    }
}
