/// Where a store keeps what, as relative names: the same in a directory and in object
/// storage (docs/FORMAT.md, *The store*).
///
///     rpfs-store                  marker, "rpfs store 1\n"
///     points/<point id>.point     one file per point
///     chunks/<2 hex>/<64 hex>     one object per chunk, named by chunk id
///     catalogs/<point id>.catalog one catalog per point (none for points made before catalogs)
public enum StoreLayout {
    public static let marker = "rpfs-store"
    public static let markerContents = Array("rpfs store 1\n".utf8)
    public static let pointsFolder = "points"
    public static let chunksFolder = "chunks"
    public static let catalogsFolder = "catalogs"
    static let pointSuffix = ".point"

    public static func chunkFolder(_ id: ChunkID) -> String {
        "\(chunksFolder)/\(id.description.prefix(2))"
    }

    public static func chunk(_ id: ChunkID) -> String {
        "\(chunkFolder(id))/\(id.description)"
    }

    public static func point(_ id: PointID) -> String {
        "\(pointsFolder)/\(id)\(pointSuffix)"
    }

    public static func catalog(_ id: PointID) -> String {
        "\(catalogsFolder)/\(id).catalog"
    }

    /// The point a name in the points folder stands for; nil for any other name.
    public static func pointID(fromName name: Substring) -> PointID? {
        guard name.hasSuffix(pointSuffix) else { return nil }
        return PointID(hex: String(name.dropLast(pointSuffix.count)))
    }
}

/// A failure of a store that is not a local directory (object storage, a web server),
/// described by the module that speaks to it and judged here by its kind.
public protocol StoreFault: Error, Sendable, CustomStringConvertible {
    var kind: StoreFaultKind { get }
}

public enum StoreFaultKind: Sendable {
    /// The bucket, prefix or object does not exist.
    case notFound
    /// The server refused the credentials or the request (403, 401).
    case accessDenied
    /// The server could not be reached or kept failing after the retries.
    case unavailable
    /// The server answered something rpfs cannot use (a malformed listing, a wrong length).
    case badResponse
    /// The store cannot do this at all (writing or listing over plain HTTPS).
    case unsupported
}
