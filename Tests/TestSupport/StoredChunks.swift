import KeyManagement
import RecoveryPoint

/// Where a point's chunks lie in a directory store, so that a test can damage the one
/// behind a chosen disk byte.
public enum StoredChunks {
    /// The object file of the chunk holding byte `offset` of disk `disk` of `point` (an id or
    /// a unique prefix), opened with the keyring at `keyring`.
    public static func object(store: String, keyring: String, point: String, disk: Int = 0, offset: UInt64) throws -> String {
        let directory = try DirectoryStore(path: store)
        let opened = try OpenedPoint.open(try directory.resolvePoint(point), in: directory, provider: KeyringDirectory(path: keyring))
        let chunkSize = UInt64(opened.header.disks[disk].chunkSize)
        guard let chunk = opened.maps[disk].id(at: offset / chunkSize) else { throw TestFailure("no chunk holds byte \(offset) of disk \(disk)") }
        return "\(store)/chunks/\(chunk.description.prefix(2))/\(chunk)"
    }
}
