import Cryptography
import KeyManagement
import Pools

/// A point whose DEK is unwrapped and whose metadata is authenticated: it can decrypt
/// chunks. Closing it (dropping the last reference) wipes the DEK and derived keys.
public final class OpenedPoint: Sendable {
    public let header: PointHeader
    /// The KEK version that unwrapped the DEK.
    public let kek: KEKIdentifier
    /// One chunk map per disk, in header order.
    public let maps: [ChunkMap]
    let keys: KeySchedule
    let store: any ChunkStore

    /// Whether the point's chunks come over the network (`ChunkStore.isRemote`).
    public var isRemote: Bool { store.isRemote }

    private init(header: PointHeader, kek: KEKIdentifier, maps: [ChunkMap], keys: KeySchedule, store: any ChunkStore) {
        self.header = header
        self.kek = kek
        self.maps = maps
        self.keys = keys
        self.store = store
    }

    /// Reads a point's public header: no key needed.
    public static func header(_ id: PointID, in store: some ChunkStore) throws(RecoveryPointError) -> PointHeader {
        try PointFile.readHeader(id, from: store).header
    }

    /// Unwraps the DEK through `provider` and authenticates the whole point file.
    /// Costs the header, one unwrap and the chunk maps: nothing proportional to disk size.
    public static func open(_ id: PointID, in store: some ChunkStore, provider: some KeyProvider) throws(RecoveryPointError) -> OpenedPoint {
        let (header, file, size) = try PointFile.readHeader(id, from: store)
        let dek: SecretBytes
        let kek: KEKIdentifier
        do {
            (dek, kek) = try provider.unwrapAny(header.wrappedKeys)
        } catch {
            throw .key(error, point: id)
        }
        guard dek.count == AES256GCM.keySize else {
            throw .key(.unwrapFailed(kek), point: id)
        }
        let keys: KeySchedule
        do {
            keys = try KeySchedule(dek: dek, domain: header.domain)
        } catch {
            throw .crypto(error)
        }
        let maps = try PointFile.openManifest(header: header, file: file, fileSize: size, from: store, keys: keys)
        return OpenedPoint(header: header, kek: kek, maps: maps, keys: keys, store: store)
    }

    public func location(disk: Int, index: UInt64, id: ChunkID) -> ChunkLocation {
        let layout = header.disks[disk]
        return ChunkLocation(disk: layout.name, index: index, byteRange: layout.range(ofChunk: index), id: id)
    }

    /// Fetches, authenticates and decrypts chunk `index` of disk `disk`, stored as `id`
    /// (from `maps`; indices absent there are holes and are never fetched).
    /// `once` and `pool` go to the store (`ChunkStore.readChunk`).
    public func chunk(disk: Int, index: UInt64, id: ChunkID, once: Bool, pool: BufferPool) throws(RecoveryPointError) -> ChunkBuffer {
        let length = header.disks[disk].range(ofChunk: index).count
        do {
            do {
                let object = try store.readChunk(id, plaintextLength: length, once: once, pool: pool)
                try ChunkObject.open(object, id: id, keys: keys)
                return object
            } catch .authenticationFailed where store.discardCached(id) {
                // A store's local cache held a bad copy: the store's own copy decides.
                let object = try store.readChunk(id, plaintextLength: length, once: once, pool: pool)
                try ChunkObject.open(object, id: id, keys: keys)
                return object
            }
        } catch {
            throw .chunk(error, at: location(disk: disk, index: index, id: id))
        }
    }
}
