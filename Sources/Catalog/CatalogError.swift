import PointNamespace
import RecoveryPoint

/// What can go wrong building, reading or comparing catalogs.
public enum CatalogError: Error, Sendable, CustomStringConvertible {
    /// The point, its store or its catalog object (`catalogMissing`, `catalogDamaged`).
    case point(RecoveryPointError)
    /// Reading the point's tree (a byte comparison, a volume that fails).
    case namespace(NamespaceError)
    /// The records inside an authenticated catalog break the format: a writer's bug.
    case malformed(PointID, String)
    /// Something the format cannot hold (a record over the segment limit).
    case tooLarge(path: String, String)

    public var description: String {
        switch self {
        case let .point(error): error.description
        case let .namespace(error): error.description
        case let .malformed(id, reason): "the catalog of point \(id) is malformed: \(reason): run 'rpfs index \(id)' to build it again"
        case let .tooLarge(path, reason): "\(path): \(reason)"
        }
    }
}
