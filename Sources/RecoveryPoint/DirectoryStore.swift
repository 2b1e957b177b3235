#if canImport(Glibc)
import Glibc
#endif
import POSIXFiles
import Pools

/// A store in a local directory, laid out as `StoreLayout` says.
public struct DirectoryStore: ChunkStore {
    public let path: String
    static let markerName = StoreLayout.marker
    static let markerContents = StoreLayout.markerContents

    /// Opens an existing store.
    public init(path: String) throws(RecoveryPointError) {
        self.path = path
        let marker: [UInt8]
        do {
            marker = try Files.read("\(path)/\(Self.markerName)", limit: 64)
        } catch {
            if error.isNotFound || error.errno == ENOTDIR { throw .notAStore(path: path) }
            throw .io(error)
        }
        guard marker == Self.markerContents else { throw .notAStore(path: path) }
    }

    /// Opens a store, creating it when the directory is missing or empty.
    public static func openOrCreate(path: String) throws(RecoveryPointError) -> DirectoryStore {
        if !Files.exists("\(path)/\(markerName)") {
            try RecoveryPointError.capturing {
                try Files.makeDirectory(path)
                guard try Files.list(path).isEmpty else { throw RecoveryPointError.notAStore(path: path) }
                try Files.makeDirectory("\(path)/points")
                try Files.makeDirectory("\(path)/chunks")
                try Files.writeAtomically("\(path)/\(markerName)", bytes: markerContents)
            }
        }
        return try DirectoryStore(path: path)
    }

    public var location: String { path }

    private func chunkPath(_ id: ChunkID) -> (directory: String, file: String) {
        ("\(path)/\(StoreLayout.chunkFolder(id))", "\(path)/\(StoreLayout.chunk(id))")
    }

    private func pointPath(_ id: PointID) -> String { "\(path)/\(StoreLayout.point(id))" }

    public func readChunk(_ id: ChunkID, plaintextLength: Int, once: Bool, pool: BufferPool) throws(RecoveryPointError.ChunkFault) -> ChunkBuffer {
        let object = ChunkBuffer(objectFor: plaintextLength, pool: pool)
        let expected = object.objectBytes.count
        // A chunk read once bypasses the page cache (unless it is there already, see
        // Files.readWhole): nobody reads its ciphertext again, so keeping it there would cost
        // a copy per byte and page-cache upkeep. Why and when a read is "once" is the point
        // disk's read policy (PointDisk's ReadPolicy).
        let whole: Bool
        do {
            whole = try Files.readWhole(chunkPath(id).file, expected: expected, into: object.pages, uncached: once)
        } catch {
            throw error.isNotFound ? .missing : .unreadable(error)
        }
        guard whole else { throw .wrongSize }
        return object
    }

    public func hasChunk(_ id: ChunkID) throws(RecoveryPointError) -> Bool {
        Files.exists(chunkPath(id).file)
    }

    public func writeChunk(_ id: ChunkID, object: ChunkBuffer) throws(RecoveryPointError) {
        let (directory, file) = chunkPath(id)
        do {
            try Files.makeDirectory(directory)
            // Durability comes from syncChunks() once per point, not an fsync per chunk.
            try Files.writeAtomically(file, from: UnsafeRawBufferPointer(object.storage), durable: false)
        } catch {
            throw .io(error)
        }
    }

    public func syncChunks() throws(RecoveryPointError) {
        do {
            try Files.syncFilesystem(containing: "\(path)/chunks")
        } catch {
            throw .io(error)
        }
    }

    public func pointIDs() throws(RecoveryPointError) -> [PointID] {
        do {
            return try Files.list("\(path)/\(StoreLayout.pointsFolder)").compactMap { StoreLayout.pointID(fromName: $0[...]) }.sorted()
        } catch {
            throw .io(error)
        }
    }

    public func readPoint(_ id: PointID, upTo: Int) throws(RecoveryPointError) -> (bytes: [UInt8], size: UInt64) {
        do {
            return try Files.readPrefix(pointPath(id), upTo: upTo)
        } catch {
            if error.isNotFound { throw .pointNotFound(id.description, store: path) }
            throw .io(error)
        }
    }

    public func readCatalog(_ id: PointID) throws(RecoveryPointError) -> CatalogBytes {
        do {
            return CatalogBytes(try MappedFile(path: "\(path)/\(StoreLayout.catalog(id))"))
        } catch {
            if error.isNotFound { throw .catalogMissing(id) }
            throw .io(error)
        }
    }

    public func writeCatalog(_ id: PointID, bytes: CatalogBytes) throws(RecoveryPointError) {
        do {
            try Files.makeDirectory("\(path)/\(StoreLayout.catalogsFolder)")
            try bytes.withBytes { (buffer) throws(SystemError) in
                try Files.writeAtomically("\(path)/\(StoreLayout.catalog(id))", from: buffer)
            }
        } catch {
            throw .io(error)
        }
    }

    public func writePoint(_ id: PointID, bytes: [UInt8], replacing: Bool) throws(RecoveryPointError) {
        do {
            try Files.writeAtomically(pointPath(id), bytes: bytes, exclusive: !replacing)
        } catch {
            throw .io(error)
        }
    }
}
