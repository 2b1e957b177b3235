import Pools

/// Where points and their chunks live. A directory today; an object store later behind the
/// same seam. Everything read through it is untrusted: callers authenticate what they get.
public protocol ChunkStore: Sendable {
    /// Shown in messages: a path or a URL.
    var location: String { get }

    /// Reads the object of chunk `id` whose plaintext is `plaintextLength` bytes long.
    /// `once`: nobody will want these bytes from the store again (read-ahead for a sequential
    /// reader, verification), so the store need not keep them in any cache of its own.
    /// The object's memory comes from `pool`.
    func readChunk(_ id: ChunkID, plaintextLength: Int, once: Bool, pool: BufferPool) throws(RecoveryPointError.ChunkFault) -> ChunkBuffer
    func hasChunk(_ id: ChunkID) throws(RecoveryPointError) -> Bool
    /// Stores a complete object under `id` atomically (a reader never sees part of one).
    func writeChunk(_ id: ChunkID, object: ChunkBuffer) throws(RecoveryPointError)
    /// Makes every chunk written so far durable: called before a point that needs them is published.
    func syncChunks() throws(RecoveryPointError)

    func pointIDs() throws(RecoveryPointError) -> [PointID]
    /// The first `upTo` bytes of a point file (all of it when shorter), and its full size.
    func readPoint(_ id: PointID, upTo: Int) throws(RecoveryPointError) -> (bytes: [UInt8], size: UInt64)
    /// Publishes a point file atomically; `replacing` allows overwriting (rewrap).
    func writePoint(_ id: PointID, bytes: [UInt8], replacing: Bool) throws(RecoveryPointError)

    /// The catalog object of point `id` (`catalogMissing` when it has none).
    func readCatalog(_ id: PointID) throws(RecoveryPointError) -> CatalogBytes
    /// Stores point `id`'s catalog atomically, replacing any earlier one.
    func writeCatalog(_ id: PointID, bytes: CatalogBytes) throws(RecoveryPointError)

    /// True when each fetch costs a network round trip: readers of such a store keep more
    /// loads in flight (PointDisk's `ReadPolicy.forStore`).
    var isRemote: Bool { get }
    /// False for a store that cannot list its points (a plain web server): points are then
    /// named by their full id.
    var canListPoints: Bool { get }
    /// Forgets any local copy of chunk `id`: it failed authentication, and the next read
    /// must come from the store itself. True when there was a copy to forget.
    func discardCached(_ id: ChunkID) -> Bool
    /// Forgets any local copy of point `id`'s catalog, as `discardCached` does for a chunk.
    func discardCachedCatalog(_ id: PointID) -> Bool
}

extension ChunkStore {
    public var canListPoints: Bool { true }
    public var isRemote: Bool { false }
    public func discardCached(_ id: ChunkID) -> Bool { false }
    public func discardCachedCatalog(_ id: PointID) -> Bool { false }

    /// Finds a point by its full id or a unique prefix of it (a store that cannot list
    /// takes only a full id).
    public func resolvePoint(_ text: String) throws(RecoveryPointError) -> PointID {
        let needle = text.lowercased()
        if !canListPoints, let id = PointID(hex: needle) { return id }
        let matches = try pointIDs().filter { $0.description.hasPrefix(needle) }
        if let exact = matches.first(where: { $0.description == needle }) { return exact }
        guard !needle.isEmpty, let first = matches.first else { throw .pointNotFound(text, store: location) }
        guard matches.count == 1 else { throw .ambiguousPoint(text, matches: matches) }
        return first
    }
}
