import Pools
import RecoveryPoint
import Synchronization

/// A store in object storage or on a web server, laid out as `StoreLayout` says: chunk
/// objects fetched whole with GET (through the local `ObjectCache` when there is one), point
/// files with a ranged GET, writes with PUT, points listed with S3's ListObjectsV2.
/// Everything fetched is untrusted and authenticated above, as for a directory.
public final class RemoteStore: ChunkStore {
    let service: any ObjectService
    let client: ObjectClient
    let cache: ObjectCache?
    /// Each point file's ETag as last read, for the conditional write of a rewrap.
    private let pointTags = Mutex<[PointID: String]>([:])
    /// A point file larger than this is refused (its manifest would describe petabytes).
    static let maxPointBytes = 1 << 30
    static let maxListingPages = 100_000

    public var location: String { service.display }
    public var isRemote: Bool { true }
    public var canListPoints: Bool { service.listURL(prefix: "", continuation: nil) != nil }

    /// Opens the store at `address` (not a directory), checking its marker; with `create`, a
    /// missing marker under an empty prefix is written.
    public static func open(_ address: StoreAddress, environment: [String: String], cache: ObjectCache.Settings?,
                            create: Bool = false) throws(RecoveryPointError) -> RemoteStore {
        var settings = HTTPSettings()
        settings.caFile = environment["RPFS_CA_FILE"] ?? environment["AWS_CA_BUNDLE"]
        if let seconds = environment["RPFS_HTTP_TIMEOUT"].flatMap(Int.init), seconds > 0 {
            settings.connectTimeout = seconds
            settings.stallTimeout = seconds
        }
        var retry = RetryPolicy()
        if let attempts = environment["RPFS_HTTP_RETRIES"].flatMap(Int.init), attempts > 0 { retry.maxAttempts = attempts }
        let service: any ObjectService
        switch address {
        case .directory:
            throw .invalidArgument("\(address.display) is a directory, not a remote store")
        case let .s3(bucket, prefix):
            let s3 = S3Service(bucket: bucket, prefix: prefix, settings: AWSSettings.from(environment: environment))
            settings.signing = s3.signing
            service = s3
        case let .http(base, query):
            service = HTTPService(base: base, query: query)
        }
        guard let curl = Libcurl.shared else {
            throw .store(ObjectStoreError(.unavailable, store: service.display, object: nil,
                                          "remote stores need libcurl (\(Libcurl.library)), which could not be loaded: install libcurl4"))
        }
        let client = ObjectClient(http: HTTPClient(settings: settings, curl: curl), retry: retry, store: service.display)
        let objectCache = cache.flatMap { ObjectCache(settings: $0, store: service.display) }
        let store = RemoteStore(service: service, client: client, cache: objectCache)
        try store.checkMarker(create: create)
        return store
    }

    private init(service: any ObjectService, client: ObjectClient, cache: ObjectCache?) {
        self.service = service
        self.client = client
        self.cache = cache
    }

    private func request(_ method: HTTPRequest.Method, _ key: String) -> HTTPRequest {
        var request = HTTPRequest(method, service.url(key))
        request.headers = service.headers
        return request
    }

    private func checkMarker(create: Bool) throws(RecoveryPointError) {
        let key = StoreLayout.marker
        let response = try capturing { () throws(ObjectStoreError) in
            try client.send(request(.get, key), key: key, into: .collect(limit: 64))
        }
        switch response.status {
        case 200 ..< 300:
            guard !response.bodyTooLarge, response.body == StoreLayout.markerContents else { throw .notAStore(path: location) }
        case 404:
            let fault = client.failure(response, key: key)
            if fault.detail.contains("NoSuchBucket") {
                throw .store(ObjectStoreError(.notFound, store: location, object: nil, "no such bucket"))
            }
            guard create, service.canWrite, try isEmpty() else { throw .notAStore(path: location) }
            try StoreLayout.markerContents.withUnsafeBytes { bytes in
                Result { () throws(RecoveryPointError) in try put(key, bytes, conditions: []) }
            }.get()
        default:
            throw .store(client.failure(response, key: key))
        }
    }

    /// No object at all under the store's prefix (a place `create` may start a store).
    private func isEmpty() throws(RecoveryPointError) -> Bool {
        try keys(under: "").isEmpty
    }

    public func readChunk(_ id: ChunkID, plaintextLength: Int, once: Bool, pool: BufferPool) throws(RecoveryPointError.ChunkFault) -> ChunkBuffer {
        let object = ChunkBuffer(objectFor: plaintextLength, pool: pool)
        let expected = object.objectBytes.count
        if let cache, cache.read(id, into: object.objectPages, expected: expected) { return object }
        let key = StoreLayout.chunk(id)
        let response: HTTPResponse
        do {
            response = try client.send(request(.get, key), key: key, into: .buffer(object.objectBytes))
        } catch {
            throw .unavailable(error)
        }
        switch response.status {
        case 200 ..< 300:
            // Longer or shorter than its chunk: a truncated, padded or foreign object.
            guard !response.bodyTooLarge, response.bodyBytes == expected else { throw .wrongSize }
            cache?.write(id, UnsafeRawBufferPointer(object.objectBytes))
            return object
        case 404:
            throw .missing
        default:
            throw .unavailable(client.failure(response, key: key))
        }
    }

    public func discardCached(_ id: ChunkID) -> Bool {
        cache?.discard(id) ?? false
    }

    public func discardCachedCatalog(_ id: PointID) -> Bool {
        cache?.discard(catalog: id) ?? false
    }

    /// A catalog is fetched whole, through the cache like a chunk.
    public func readCatalog(_ id: PointID) throws(RecoveryPointError) -> CatalogBytes {
        if let cached = cache?.read(catalog: id) { return cached }
        let key = StoreLayout.catalog(id)
        let response = try capturing { () throws(ObjectStoreError) in
            try client.send(request(.get, key), key: key, into: .collect(limit: CatalogObject.maxObject))
        }
        switch response.status {
        case 200 ..< 300:
            guard !response.bodyTooLarge else {
                throw .store(ObjectStoreError(.badResponse, store: location, object: key, "the catalog is over \(CatalogObject.maxObject) bytes"))
            }
            let object = CatalogBytes(response.body)
            cache?.write(catalog: id, object)
            return object
        case 404:
            throw .catalogMissing(id)
        default:
            throw .store(client.failure(response, key: key))
        }
    }

    public func writeCatalog(_ id: PointID, bytes: CatalogBytes) throws(RecoveryPointError) {
        try bytes.withBytes { (body) throws(RecoveryPointError) in try put(StoreLayout.catalog(id), body, conditions: []) }
        cache?.write(catalog: id, bytes)
    }

    public func hasChunk(_ id: ChunkID) throws(RecoveryPointError) -> Bool {
        let key = StoreLayout.chunk(id)
        let response = try capturing { () throws(ObjectStoreError) in try client.send(request(.head, key), key: key, into: .discard) }
        switch response.status {
        case 200 ..< 300: return true
        case 404: return false
        default: throw .store(client.failure(response, key: key))
        }
    }

    public func writeChunk(_ id: ChunkID, object: ChunkBuffer) throws(RecoveryPointError) {
        try put(StoreLayout.chunk(id), UnsafeRawBufferPointer(object.objectBytes), conditions: [])
    }

    /// A PUT returns once the object is stored: nothing more to make durable.
    public func syncChunks() throws(RecoveryPointError) {}

    public func pointIDs() throws(RecoveryPointError) -> [PointID] {
        let folder = StoreLayout.pointsFolder + "/"
        return try keys(under: folder).compactMap { key in
            key.hasPrefix(folder) ? StoreLayout.pointID(fromName: key.dropFirst(folder.count)) : nil
        }.sorted()
    }

    public func readPoint(_ id: PointID, upTo: Int) throws(RecoveryPointError) -> (bytes: [UInt8], size: UInt64) {
        let key = StoreLayout.point(id)
        var ranged = request(.get, key)
        ranged.range = 0 ... UInt64(max(upTo, 1) - 1)
        // A server may ignore the range and send the whole file (200), or send the range with
        // a 200 (rclone): the object's size is Content-Range's total when there is one.
        let response = try capturing { () throws(ObjectStoreError) in
            try client.send(ranged, key: key, into: .collect(limit: Self.maxPointBytes))
        }
        switch response.status {
        case 200, 206:
            guard !response.bodyTooLarge else {
                throw .store(ObjectStoreError(.badResponse, store: location, object: key, "the point file is over \(Self.maxPointBytes) bytes"))
            }
            if let tag = response.headers["etag"] { pointTags.withLock { $0[id] = tag } }
            // "Content-Range: bytes 0-N/TOTAL"
            let total = response.headers["content-range"].flatMap { $0.split(separator: "/").last.flatMap { UInt64($0) } }
            guard let size = total ?? (response.status == 200 ? UInt64(response.bodyBytes) : nil),
                  UInt64(response.bodyBytes) <= size else {
                throw .store(ObjectStoreError(.badResponse, store: location, object: key, "a ranged answer without the object's size"))
            }
            return (Array(response.body.prefix(upTo)), size)
        case 404:
            throw .pointNotFound(id.description, store: location)
        default:
            throw .store(client.failure(response, key: key))
        }
    }

    /// A new point is written only if no object has its name; a rewrap's replacement only
    /// if the point file is still the one it read (its ETag), so two rewraps never lose one.
    public func writePoint(_ id: PointID, bytes: [UInt8], replacing: Bool) throws(RecoveryPointError) {
        let conditions: [String]
        if replacing {
            conditions = pointTags.withLock { $0[id] }.map { ["If-Match: \($0)"] } ?? []
        } else {
            conditions = ["If-None-Match: *"]
        }
        try bytes.withUnsafeBytes { body in
            Result { () throws(RecoveryPointError) in try put(StoreLayout.point(id), body, conditions: conditions) }
        }.get()
    }

    private func put(_ key: String, _ body: UnsafeRawBufferPointer, conditions: [String]) throws(RecoveryPointError) {
        guard service.canWrite else {
            throw .store(ObjectStoreError(.unsupported, store: location, object: nil, "a store read over HTTP(S) is read-only: write through s3:// or a directory"))
        }
        var put = request(.put, key)
        put.headers += conditions + service.headers(forBody: body)
        let response = try capturing { () throws(ObjectStoreError) in try client.send(put, key: key, body: body, into: .discard) }
        switch response.status {
        case 200 ..< 300:
            return
        case 412:
            throw .store(ObjectStoreError(.badResponse, store: location, object: key,
                                          "changed or created by someone else since it was read (HTTP 412): nothing was written; run the command again"))
        default:
            throw .store(client.failure(response, key: key))
        }
    }

    /// Every key under `folder` (relative to the store), from as many listing pages as it takes.
    private func keys(under folder: String) throws(RecoveryPointError) -> [String] {
        guard service.listURL(prefix: folder, continuation: nil) != nil else {
            throw .store(ObjectStoreError(.unsupported, store: location, object: nil,
                                          "a store read over HTTP(S) cannot list its points: name a point by its full id"))
        }
        var keys: [String] = []
        var continuation: String?
        for _ in 0 ..< Self.maxListingPages {
            let url = service.listURL(prefix: folder, continuation: continuation) ?? ""
            var list = HTTPRequest(.get, url)
            list.headers = service.headers
            let response = try capturing { () throws(ObjectStoreError) in try client.send(list, key: folder, into: .collect(limit: 16 << 20)) }
            guard (200 ..< 300).contains(response.status) else { throw .store(client.failure(response, key: folder)) }
            guard !response.bodyTooLarge else {
                throw .store(ObjectStoreError(.badResponse, store: location, object: folder, "a listing page over 16 MiB"))
            }
            let page = String(decoding: response.body, as: UTF8.self)
            keys += XMLText.all("Key", in: page).map(service.storeKey)
            guard XMLText.first("IsTruncated", in: page) == "true" else { return keys }
            guard let next = XMLText.first("NextContinuationToken", in: page), !next.isEmpty, next != continuation else {
                throw .store(ObjectStoreError(.badResponse, store: location, object: folder, "a truncated listing without a new continuation token"))
            }
            continuation = next
        }
        throw .store(ObjectStoreError(.badResponse, store: location, object: folder, "more than \(Self.maxListingPages) listing pages"))
    }

    private func capturing<T>(_ body: () throws(ObjectStoreError) -> T) throws(RecoveryPointError) -> T {
        do {
            return try body()
        } catch {
            throw .store(error)
        }
    }
}
