import PointNamespace
import RecoveryPoint

/// A point whose catalog is read: the opened point (its keys and chunk maps, all that
/// comparing fingerprints needs), and its tree, opened only when a question needs the
/// point's bytes (a byte comparison).
public final class CatalogPoint {
    public typealias TreeOpener = () throws(NamespaceError) -> PointNamespace

    public let point: OpenedPoint
    private let openTree: TreeOpener
    private var tree: PointNamespace?

    public init(point: OpenedPoint, openTree: @escaping TreeOpener) {
        self.point = point
        self.openTree = openTree
    }

    public var id: PointID { point.header.id }

    /// The catalog's records, authenticated, in `PathOrder`.
    public func entries() throws(CatalogError) -> CatalogStream {
        try CatalogStream(point)
    }

    /// The record of `path`, if the catalog holds one: read up to where it would be.
    public func entry(at path: String) throws(CatalogError) -> CatalogEntry? {
        var stream = try entries()
        while let entry = try stream.next() {
            if entry.path == path { return entry }
            if PathOrder.precedes(path, entry.path) { return nil }
        }
        return nil
    }

    func namespace() throws(CatalogError) -> PointNamespace {
        if let tree { return tree }
        do {
            let opened = try openTree()
            tree = opened
            return opened
        } catch {
            throw .namespace(error)
        }
    }
}
