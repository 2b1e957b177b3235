import KeyManagement
import RecoveryPoint

/// Where the chunks of one disk of a point lie in a directory store, so that a test can
/// damage the object behind a chosen disk byte, or each object in turn.
public struct StoredChunks {
    public let chunkSize: UInt64
    /// Each stored chunk's index and object file, by index; indices not here are holes.
    public let objects: [(index: UInt64, path: String)]

    /// The chunks of disk `disk` of `point` (an id or a unique prefix), opened with the
    /// keyring at `keyring`.
    public init(store: String, keyring: String, point: String, disk: Int = 0) throws {
        let directory = try DirectoryStore(path: store)
        let opened = try OpenedPoint.open(try directory.resolvePoint(point), in: directory, provider: KeyringDirectory(path: keyring))
        chunkSize = UInt64(opened.header.disks[disk].chunkSize)
        objects = opened.maps[disk].entries.map { ($0.index, "\(store)/chunks/\($0.id.description.prefix(2))/\($0.id)") }
    }

    /// The object file of the chunk holding disk byte `offset`.
    public func object(holding offset: UInt64) throws -> String {
        guard let entry = objects.first(where: { $0.index == offset / chunkSize }) else { throw TestFailure("no stored chunk holds byte \(offset)") }
        return entry.path
    }

    /// Each object file with the indices of every chunk stored in it (equal chunks share one).
    public var indicesByObject: [String: [UInt64]] {
        Dictionary(grouping: objects, by: \.path).mapValues { $0.map(\.index) }
    }
}
