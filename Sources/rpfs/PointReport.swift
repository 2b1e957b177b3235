import KeyManagement
import RecoveryPoint

/// The JSON shape of a point in `rpfs points --json` and `rpfs inspect --json`.
/// Documented in rpfs(1), JSON OUTPUT; fields are only ever added.
struct PointReport: Encodable {
    struct Disk: Encodable {
        let name: String
        let size: UInt64
        let chunkSize: Int
        let chunks: UInt64
        let storedChunks: UInt64
        /// inspect only, once the key opened the point: partition table and volumes.
        var layout: LayoutReport?
    }

    struct WrappedKey: Encodable {
        let kek: String
        let algorithm: String
        /// "available", "missing" or an error, with --keyring (inspect); absent otherwise.
        let state: String?
    }

    let id: String
    let created: String
    let name: String
    let parent: String?
    let guestEncryption: String
    var disks: [Disk]
    let wrappedKeys: [WrappedKey]
    /// inspect only: the KEK that unwrapped the DEK, and whether the metadata authenticated.
    var unwrappedWith: String?
    var metadata: String?
    /// inspect only: why ls, cp, restore and mount refuse this point, if they do.
    var refusal: String?
    /// inspect only, once the key opened the point: the LVM2 volume groups on its disks.
    var volumeGroups: [VolumeGroupReport]?
    /// inspect only, once the key opened the point: the Windows disk groups of its dynamic disks.
    var diskGroups: [DiskGroupReport]?

    init(_ header: PointHeader, keyStates: [String?]? = nil) {
        id = header.id.description
        created = TimeFormat.rfc3339(nanosecondsSinceEpoch: header.created)
        name = header.sourceName
        parent = header.parent?.description
        guestEncryption = header.guestEncryption.name
        disks = zip(header.disks, header.storedChunks).map {
            Disk(name: $0.name, size: $0.size, chunkSize: $0.chunkSize, chunks: $0.chunkCount, storedChunks: $1)
        }
        wrappedKeys = header.wrappedKeys.enumerated().map { position, key in
            WrappedKey(kek: key.kek.description, algorithm: key.algorithm.name, state: keyStates?[position])
        }
    }
}
