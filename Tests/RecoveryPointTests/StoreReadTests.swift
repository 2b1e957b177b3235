import BlockDevices
import Foundation
import POSIXFiles
import PointDisk
import Pools
import RecoveryPoint
import TestSupport
import Testing

/// How chunk objects come off the store's filesystem: a chunk read once (read-ahead,
/// verification) bypasses the page cache (O_DIRECT) unless the page cache holds it already or
/// the filesystem refuses; any other read goes through it. Checked with util-linux's fincore,
/// and on a real ramfs (no O_DIRECT).
@Suite(.serialized) struct StoreReadTests {
    /// A fixture on /var/tmp (a disk filesystem on Debian; tmpfs pages are the file itself,
    /// always resident) with every chunk object dropped from the page cache.
    private func evictedFixture() throws -> (PointFixture, [ChunkID: String]) {
        let fixture = try PointFixture(in: "/var/tmp")
        var files: [ChunkID: String] = [:]
        for (_, id) in try fixture.open().maps[0].entries {
            files[id] = fixture.chunkPath(id)
        }
        #expect(files.count > 10)
        for file in files.values {
            // dd's nocache with count=0: write back and drop the whole file from the page cache.
            try Shell.check("dd", ["if=\(file)", "iflag=nocache", "count=0", "status=none"])
            try #require(try residentBytes(file) == 0, "the test needs \(file) out of the page cache first")
        }
        return (fixture, files)
    }

    /// Bytes of `path` in the page cache, as fincore counts them.
    private func residentBytes(_ path: String) throws -> Int {
        let output = try Shell.check("fincore", ["--bytes", "--noheadings", "--raw", "--output", "RES", path])
        guard let bytes = Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw TestFailure("fincore said '\(output)'") }
        return bytes
    }

    @Test func aChunkReadOnceBypassesThePageCacheAndOthersUseIt() throws {
        let (fixture, files) = try evictedFixture()
        let point = try fixture.open()
        let size = PointFixture.chunkSize
        let pool = BufferPool(retaining: 0)
        for (index, id) in point.maps[0].entries {
            let chunk = try point.chunk(disk: 0, index: index, id: id, once: true, pool: pool)
            let start = Int(index) * size
            #expect(Array(chunk.payload) == Array(fixture.image[start ..< min(start + size, fixture.image.count)]))
        }
        for file in files.values {
            #expect(try residentBytes(file) == 0, "\(file) was read through the page cache")
        }
        let (index, id) = try #require(point.maps[0].entries.first)
        _ = try point.chunk(disk: 0, index: index, id: id, once: false, pool: pool)
        #expect(try residentBytes(try #require(files[id])) > 0, "an ordinary read did not go through the page cache")
    }

    @Test func aSequentialReaderReadsAheadAroundThePageCache() throws {
        let (fixture, files) = try evictedFixture()
        let point = try fixture.open()
        let disk = RecoveryPointDisk.disks(of: point)[0]
        #expect(try disk.readAll() == fixture.image)
        // Chunks 0, 1 and 2 are read on demand (the third makes the second sequential step in
        // a row, which starts read-ahead); read-ahead loads every later one.
        let onDemand = Set([0, 1, 2].compactMap { point.maps[0].id(at: $0) })
        let ahead = files.filter { !onDemand.contains($0.key) }
        #expect(ahead.count > 10)
        for file in ahead.values {
            #expect(try residentBytes(file) == 0, "\(file) was read ahead through the page cache")
        }
    }

    @Test func residencyAndBypassAreWhatTheKernelSays() throws {
        let (fixture, files) = try evictedFixture()
        let path = try #require(files.values.first)
        let size = Int(try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber).intValue)
        let file = try FileDescriptor(opening: path, flags: O_RDONLY)
        #expect(!file.isCached(length: size), "fincore says 0 bytes resident")
        _ = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(try residentBytes(path) > 0)
        #expect(file.isCached(length: size), "read whole: every page resident")
        #expect(file.bypassPageCache(true), "\(fixture.directory.path) takes O_DIRECT")
        #expect(file.bypassPageCache(false))
    }

    @Test func aStoreOnAFilesystemWithoutDirectIOIsReadTheOrdinaryWay() throws {
        let directory = try TemporaryDirectory()
        let mountpoint = directory.file("ramfs")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: false)
        try Shell.check("mount", ["-t", "ramfs", "rpfs-test", mountpoint])
        defer { _ = try? Shell.run("umount", [mountpoint]) }
        let fixture = try PointFixture(in: mountpoint)
        // ramfs refuses O_DIRECT (EINVAL), at open as dd shows and through fcntl.
        let chunk = fixture.chunkPath(try #require(try fixture.open().maps[0].entries.first?.id))
        let direct = try Shell.run("dd", ["if=\(chunk)", "of=/dev/null", "iflag=direct", "bs=4096", "status=none"])
        #expect(direct.status != 0 && direct.stderr.contains("Invalid argument"), "ramfs took O_DIRECT: \(direct.stderr)")
        #expect(!(try FileDescriptor(opening: chunk, flags: O_RDONLY)).bypassPageCache(true))
        // Read-ahead asks for uncached reads throughout.
        let disk = RecoveryPointDisk.disks(of: try fixture.open())[0]
        #expect(try disk.readAll() == fixture.image)
    }
}
