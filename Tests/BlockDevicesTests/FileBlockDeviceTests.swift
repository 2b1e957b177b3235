import BlockDevices
import Glibc
import POSIXFiles
import Testing

@Suite struct FileBlockDeviceTests {
    @Test func readsTheFileAndRefusesPastItsEnd() throws {
        let path = "/tmp/rpfs-fbd-\(getpid())"
        let bytes = (0 ..< 10_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let file = fopen(path, "w")
        #expect(fwrite(bytes, 1, bytes.count, file) == bytes.count)
        fclose(file)
        defer { unlink(path) }
        let device = try FileBlockDevice(path: path)
        #expect(device.size == 10_000)
        #expect(try device.read(at: 4321, count: 100) == Array(bytes[4321 ..< 4421]))
        #expect(throws: DiskReadError.self) { try device.read(at: 9_999, count: 2) }
    }

    @Test func aMissingFileIsAnIOErrorNamingIt() {
        do {
            _ = try FileBlockDevice(path: "/nonexistent/rpfs-image")
            Issue.record("opened a missing file")
        } catch {
            guard case let .io(system) = error else { Issue.record("\(error)"); return }
            #expect(system.isNotFound)
            #expect(error.description.contains("/nonexistent/rpfs-image"))
            #expect(!error.isDamage)
        }
    }
}

@Suite struct BoundedCacheTests {
    @Test func evictsTheLeastRecentlyUsedByCountAndWeight() {
        var cache = BoundedCache<Int, String>(maxCount: 3, maxWeight: 10)
        cache.insert("a", for: 1, weight: 2)
        cache.insert("b", for: 2, weight: 2)
        cache.insert("c", for: 3, weight: 2)
        #expect(cache.value(for: 1) == "a") // 1 is now the newest
        cache.insert("d", for: 4, weight: 2) // over the count: 2 goes
        #expect(cache.value(for: 2) == nil)
        #expect(cache.count == 3)
        cache.insert("e", for: 5, weight: 7) // over the weight: 3 and 1 go
        #expect(cache.value(for: 3) == nil && cache.value(for: 1) == nil)
        #expect(cache.value(for: 4) == "d" && cache.value(for: 5) == "e")
        #expect(cache.totalWeight == 9)
        cache.insert("huge", for: 6, weight: 11) // outweighs the whole cache: not stored
        #expect(cache.value(for: 6) == nil && cache.count == 2)
    }
}
