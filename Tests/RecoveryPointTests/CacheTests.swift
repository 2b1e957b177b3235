import BlockDevices
import Dispatch
import Foundation
import PointDisk
import Pools
import RecoveryPoint
import Synchronization
import TestSupport
import Testing

/// A real directory store that counts chunk fetches: instrumentation, not a mock. With a
/// gate, reads of the gated chunk wait until the test lets them go.
struct CountingStore: ChunkStore {
    struct Gate {
        let chunk: ChunkID
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
    }

    let inner: DirectoryStore
    var gate: Gate?
    let reads = Counter()

    var location: String { inner.location }

    func readChunk(_ id: ChunkID, plaintextLength: Int, once: Bool, pool: BufferPool) throws(RecoveryPointError.ChunkFault) -> ChunkBuffer {
        reads.increment()
        if let gate, gate.chunk == id {
            gate.entered.signal()
            gate.release.wait()
        }
        // Widen the window in which concurrent readers pile up on one load.
        usleep(20_000)
        return try inner.readChunk(id, plaintextLength: plaintextLength, once: once, pool: pool)
    }

    func hasChunk(_ id: ChunkID) throws(RecoveryPointError) -> Bool { try inner.hasChunk(id) }
    func writeChunk(_ id: ChunkID, object: ChunkBuffer) throws(RecoveryPointError) { try inner.writeChunk(id, object: object) }
    func syncChunks() throws(RecoveryPointError) { try inner.syncChunks() }
    func pointIDs() throws(RecoveryPointError) -> [PointID] { try inner.pointIDs() }
    func readCatalog(_ id: PointID) throws(RecoveryPointError) -> CatalogBytes { try inner.readCatalog(id) }
    func writeCatalog(_ id: PointID, bytes: CatalogBytes) throws(RecoveryPointError) { try inner.writeCatalog(id, bytes: bytes) }
    func readPoint(_ id: PointID, upTo: Int) throws(RecoveryPointError) -> (bytes: [UInt8], size: UInt64) { try inner.readPoint(id, upTo: upTo) }
    func writePoint(_ id: PointID, bytes: [UInt8], replacing: Bool) throws(RecoveryPointError) {
        try inner.writePoint(id, bytes: bytes, replacing: replacing)
    }
}

final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    func increment() { value.add(1, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}

@Suite struct CacheTests {
    @Test func concurrentReadersOfOneChunkDecryptItOnce() throws {
        let fixture = try PointFixture()
        let store = CountingStore(inner: fixture.store)
        let point = try OpenedPoint.open(fixture.id, in: store, provider: fixture.keyring)
        let disk = RecoveryPointDisk.disks(of: point)[0]
        let expected = Array(fixture.image[100 ..< 200])
        let wrong = Counter()
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            if (try? disk.read(at: 100, count: 100)) != expected { wrong.increment() }
        }
        #expect(wrong.count == 0)
        #expect(store.reads.count == 1)
    }

    @Test func manyThreadsReadingEverywhereGetCorrectBytes() throws {
        let fixture = try PointFixture(chunks: 40)
        let disk = RecoveryPointDisk.disks(of: try fixture.open(), cacheSize: 4 * PointFixture.chunkSize)[0]
        let image = fixture.image
        let wrong = Counter()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            var random = SeededBytes(seed: UInt64(worker + 1))
            for _ in 0 ..< 200 {
                let offset = random.int(below: image.count)
                let length = 1 + random.int(below: min(200_000, image.count - offset))
                if (try? disk.read(at: UInt64(offset), count: length)) != Array(image[offset ..< offset + length]) {
                    wrong.increment()
                }
            }
        }
        #expect(wrong.count == 0)
    }

    @Test func cacheStaysWithinItsBound() throws {
        let fixture = try PointFixture(chunks: 40)
        let capacity = 4 * PointFixture.chunkSize
        let disk = RecoveryPointDisk.disks(of: try fixture.open(), cacheSize: capacity)[0]
        _ = try disk.readAll()
        #expect(disk.cache.cachedBytes <= capacity)
        #expect(disk.cache.cachedBytes > 0)
    }

    @Test func readAheadWaitsUntilTheCacheStartsIt() throws {
        let fixture = try PointFixture()
        let store = CountingStore(inner: fixture.store)
        let point = try OpenedPoint.open(fixture.id, in: store, provider: fixture.keyring)
        let cache = ChunkCache(capacity: RecoveryPointDisk.defaultCacheSize, readAhead: false)
        let disk = RecoveryPointDisk.disks(of: point, cache: cache)[0]
        let chunk = UInt64(PointFixture.chunkSize)
        // Chunks 0, 1 (a hole) and 2 in turn: sequential steps, as a survey's probes make.
        for index: UInt64 in 0 ... 2 { _ = try disk.read(at: index * chunk, count: 16) }
        usleep(200_000)
        #expect(store.reads.count == 2, "only the chunks read were loaded")
        cache.startReadAhead()
        _ = try disk.read(at: 3 * chunk, count: 16)
        let deadline = Date().addingTimeInterval(10)
        while store.reads.count <= 3, Date() < deadline { usleep(10_000) }
        #expect(store.reads.count > 3, "chunk 3 after chunk 2 loads the next chunks ahead")
    }

    /// Read-ahead waits for a second step in a row: one step (a page-cache window or a small
    /// file straddling two chunks) is not a sequential reader and must not cost chunks
    /// nobody reads.
    @Test func aSingleStepLoadsNothingAhead() throws {
        let fixture = try PointFixture(chunks: 40)
        let store = CountingStore(inner: fixture.store)
        let point = try OpenedPoint.open(fixture.id, in: store, provider: fixture.keyring)
        let disk = RecoveryPointDisk.disks(of: point)[0]
        let chunk = UInt64(PointFixture.chunkSize)
        // Chunks 3 and 4 (neither a hole; the fixture's holes are 1, 7, 13, ...): one step.
        _ = try disk.read(at: 4 * chunk - 8, count: 16)
        #expect(settled(store) == 2, "a single step loaded chunks ahead")
        // A third chunk in a row: now a sequential reader, whose next chunks load ahead.
        _ = try disk.read(at: 5 * chunk, count: 16)
        #expect(settled(store) > 3, "two steps in a row loaded nothing ahead")
    }

    /// Drop-behind: a reader going through chunk after chunk leaves only the last two in the
    /// cache, each chunk loaded once; a single step into the next chunk drops nothing, so a
    /// walk that comes back to the chunk before finds it still cached.
    @Test func aSequentialReaderLeavesNoChunksBehind() throws {
        let fixture = try PointFixture(chunks: 40)
        let store = CountingStore(inner: fixture.store)
        let point = try OpenedPoint.open(fixture.id, in: store, provider: fixture.keyring)
        let disk = RecoveryPointDisk.disks(of: point)[0]
        #expect(try disk.readAll(in: 16 << 10) == fixture.image, "several reads in each chunk, in order")
        let stored = Int(point.header.storedChunks[0])
        let deadline = Date().addingTimeInterval(10)
        while store.reads.count < stored, Date() < deadline { usleep(10_000) }
        #expect(store.reads.count == stored, "every stored chunk loaded once")
        #expect(disk.cache.cachedBytes <= 2 * PointFixture.chunkSize + 12_345, "\(disk.cache.cachedBytes) bytes left behind")

        // 14, then elsewhere, then 15 and one step to 16: chunk 14 was read, but not by a run.
        // (The fixture's chunks 1, 7, 13, 19, ... are holes, which nothing loads.)
        let walker = RecoveryPointDisk.disks(of: try OpenedPoint.open(fixture.id, in: store, provider: fixture.keyring))[0]
        let chunk = UInt64(PointFixture.chunkSize)
        for index: UInt64 in [14, 30, 15, 16] { _ = try walker.read(at: index * chunk + 100, count: 16) }
        let loads = settled(store)
        _ = try walker.read(at: 14 * chunk + 200, count: 16)
        #expect(settled(store) == loads, "chunk 14 stayed cached after a single step from 15 to 16")
    }

    /// The load count once read-ahead has finished (unchanged for 300 ms, at most 10 s).
    private func settled(_ store: CountingStore) -> Int {
        var last = -1
        var quiet = 0
        let deadline = Date().addingTimeInterval(10)
        while quiet < 3, Date() < deadline {
            usleep(100_000)
            let now = store.reads.count
            quiet = now == last ? quiet + 1 : 0
            last = now
        }
        return last
    }

    @Test func aLoadMakesRoomBeforeItTakesMemory() throws {
        let fixture = try PointFixture()
        let map = try fixture.open().maps[0]
        let chunk = PointFixture.chunkSize
        // Three stored chunks of different contents (equal contents share one object).
        var stored: [UInt64] = []
        for index in 0 ..< UInt64(fixture.image.count / chunk) where stored.count < 3 {
            if let id = map.id(at: index), !stored.contains(where: { map.id(at: $0) == id }) { stored.append(index) }
        }
        guard stored.count == 3, let third = stored.last, let gated = map.id(at: third) else { throw TestFailure("the fixture has fewer than 3 distinct chunks") }
        let store = CountingStore(inner: fixture.store, gate: .init(chunk: gated))
        let disk = RecoveryPointDisk.disks(of: try OpenedPoint.open(fixture.id, in: store, provider: fixture.keyring), cacheSize: 2 * chunk)[0]
        for index in stored.prefix(2) { _ = try disk.read(at: index * UInt64(chunk), count: 16) }
        #expect(disk.cache.cachedBytes == 2 * chunk)
        let finished = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            _ = try? disk.read(at: third * UInt64(chunk), count: 16)
            finished.signal()
        }
        // Whatever fails below, the gated load ends and the test cannot hang.
        defer { store.gate?.release.signal() }
        guard store.gate?.entered.wait(timeout: .now() + 30) == .success else { throw TestFailure("the third chunk's load never started") }
        // The third chunk is being read: the first already made way for it.
        let before = store.reads.count
        #expect(disk.cache.cachedBytes <= 2 * chunk)
        let reread = DispatchSemaphore(value: 0)
        let first = stored[0] * UInt64(chunk)
        DispatchQueue.global().async {
            _ = try? disk.read(at: first, count: 16)
            reread.signal()
        }
        #expect(reread.wait(timeout: .now() + 30) == .success, "reading the first chunk waited on the third's load")
        #expect(store.reads.count == before + 1, "the first chunk was still cached while the third loaded")
        store.gate?.release.signal()
        #expect(finished.wait(timeout: .now() + 30) == .success)
        #expect(disk.cache.cachedBytes <= 2 * chunk)
    }

    @Test func failedLoadsAreNotCachedAndReportedAgain() throws {
        let fixture = try PointFixture()
        let entry = try fixture.open().maps[0].entries[0]
        let path = fixture.chunkPath(entry.id)
        let saved = try Data(contentsOf: URL(fileURLWithPath: path))
        try FileManager.default.removeItem(atPath: path)
        let disk = RecoveryPointDisk.disks(of: try fixture.open())[0]
        #expect(throws: DiskReadError.self) { try disk.read(at: 0, count: 10) }
        #expect(throws: DiskReadError.self) { try disk.read(at: 0, count: 10) }
        try saved.write(to: URL(fileURLWithPath: path))
        #expect(try disk.read(at: 0, count: 10) == Array(fixture.image[0 ..< 10]))
    }
}

@Suite struct BoundedCacheTests {
    @Test func boundedCacheEvictsLeastRecentlyUsed() {
        var cache = BoundedCache<Int, String>(maxCount: 3, maxWeight: 10)
        cache.insert("a", for: 1, weight: 2)
        cache.insert("b", for: 2, weight: 2)
        cache.insert("c", for: 3, weight: 2)
        #expect(cache.value(for: 1) == "a")
        cache.insert("d", for: 4, weight: 2)
        #expect(cache.value(for: 2) == nil, "least recently used goes first")
        #expect(cache.count == 3)
        cache.insert("e", for: 5, weight: 8)
        #expect(cache.totalWeight <= 10)
        #expect(cache.value(for: 5) == "e")
        cache.insert("huge", for: 6, weight: 11)
        #expect(cache.value(for: 6) == nil, "an entry heavier than the cache is not kept")
        cache.insert("e2", for: 5, weight: 1)
        #expect(cache.value(for: 5) == "e2")
    }

    @Test func evictionKeepsBothBoundsOverManyInserts() {
        var cache = BoundedCache<Int, Int>(maxCount: 100, maxWeight: 1000)
        for key in 0 ..< 10_000 {
            cache.insert(key, for: key % 300, weight: key % 17 + 1)
            if key % 3 == 0 { _ = cache.value(for: (key * 7) % 300) }
            #expect(cache.count <= 100 && cache.totalWeight <= 1000)
        }
        #expect(cache.value(for: 9_999 % 300) == 9_999, "the newest entry is kept")
    }
}
