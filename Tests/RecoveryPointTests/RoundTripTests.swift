import BlockDevices
import Foundation
import KeyManagement
import PointDisk
import RecoveryPoint
import TestSupport
import Testing

@Suite struct RoundTripTests {
    @Test func everyByteReadsBackSequentially() throws {
        let fixture = try PointFixture()
        let disk = RecoveryPointDisk.disks(of: try fixture.open())[0]
        #expect(disk.size == UInt64(fixture.image.count))
        #expect(try disk.readAll() == fixture.image)
    }

    @Test func randomOffsetsAndLengthsAcrossChunkBoundaries() throws {
        let fixture = try PointFixture()
        let disk = RecoveryPointDisk.disks(of: try fixture.open(), cacheSize: 3 * PointFixture.chunkSize)[0]
        var random = SeededBytes(seed: 99)
        for _ in 0 ..< 500 {
            let offset = random.int(below: fixture.image.count)
            let length = 1 + random.int(below: min(3 * PointFixture.chunkSize, fixture.image.count - offset))
            let got = try disk.read(at: UInt64(offset), count: length)
            #expect(got == Array(fixture.image[offset ..< offset + length]), "offset \(offset) length \(length)")
        }
        // Reads that straddle each boundary exactly.
        for boundary in stride(from: PointFixture.chunkSize, to: fixture.image.count, by: PointFixture.chunkSize) {
            let got = try disk.read(at: UInt64(boundary - 3), count: 7)
            #expect(got == Array(fixture.image[boundary - 3 ..< boundary + 4]))
        }
    }

    @Test func holesAreNotStoredAndRepeatedChunksAreStoredOnce() throws {
        let fixture = try PointFixture(chunks: 24)
        let point = try fixture.open()
        // Expected values computed from the image itself.
        let size = PointFixture.chunkSize
        let chunks = stride(from: 0, to: fixture.image.count, by: size).map {
            Array(fixture.image[$0 ..< min($0 + size, fixture.image.count)])
        }
        let stored = chunks.enumerated().filter { $0.element.contains { $0 != 0 } }
        #expect(point.header.disks[0].chunkCount == UInt64(chunks.count))
        #expect(point.maps[0].count == stored.count)
        #expect(stored.count < chunks.count, "the fixture must contain holes")
        for (index, chunk) in chunks.enumerated() where !chunk.contains(where: { $0 != 0 }) {
            #expect(point.maps[0].id(at: UInt64(index)) == nil)
        }
        let distinct = Set(stored.map(\.element)).count
        #expect(distinct < stored.count, "the fixture must contain repeated chunks")
        #expect(Set(point.maps[0].entries.map(\.id)).count == distinct)
        #expect(try fixture.chunkFiles().count == distinct)
    }

    @Test func chunkIDsDoNotRevealPlaintextWithoutTheKey() throws {
        // Two stores, same image, different DEKs: the same content gets unrelated ids.
        let first = try PointFixture(seed: 5)
        let second = try PointFixture(seed: 5)
        let a = Set(try first.open().maps[0].entries.map(\.id))
        let b = Set(try second.open().maps[0].entries.map(\.id))
        #expect(a.isDisjoint(with: b))
    }

    @Test func multipleDisksAreNamedInOrder() throws {
        let fixture = try PointFixture()
        let secondImage = ImageBuilder.mixed(chunkSize: 4096, chunks: 5, tail: 1, seed: 11)
        let secondPath = fixture.directory.file("disk1.img")
        try ImageBuilder.write(secondImage, to: secondPath)
        let id = try fixture.makePoint(from: [fixture.imagePath, secondPath])
        let point = try fixture.open(id)
        #expect(point.header.disks.map(\.name) == ["disk0", "disk1"])
        let disks = RecoveryPointDisk.disks(of: point)
        #expect(try disks[0].readAll() == fixture.image)
        #expect(try disks[1].readAll() == secondImage)
    }

    @Test func sparseFourTebibyteDiskIsCheapToWriteAndOpen() throws {
        let fixture = try PointFixture()
        let path = fixture.directory.file("huge.img")
        // A 4 TiB sparse file with data at 1 GiB and at the very end.
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: 4 << 40)
        try handle.seek(toOffset: 1 << 30)
        handle.write(Data("hello".utf8))
        try handle.seek(toOffset: (4 << 40) - 5)
        handle.write(Data("world".utf8))
        try handle.close()

        var request = PointRequest(images: [path], kek: try .init(parsing: "backup"))
        request.chunkSizeLog2 = 22
        let (id, statistics) = try PointWriter.create(request, store: fixture.store, provider: fixture.keyring)
        #expect(statistics.newChunks == 2)
        let point = try fixture.open(id)
        #expect(point.maps[0].count == 2)
        let disk = RecoveryPointDisk.disks(of: point)[0]
        #expect(try disk.read(at: 1 << 30, count: 5) == Array("hello".utf8))
        #expect(try disk.read(at: (4 << 40) - 5, count: 5) == Array("world".utf8))
        #expect(try disk.read(at: 2 << 40, count: 4096) == [UInt8](repeating: 0, count: 4096))
    }

    @Test func readsOutsideTheDiskAreRejected() throws {
        let fixture = try PointFixture()
        let disk = RecoveryPointDisk.disks(of: try fixture.open())[0]
        #expect(throws: DiskReadError.self) { try disk.read(at: disk.size - 1, count: 2) }
        #expect(throws: DiskReadError.self) { try disk.read(at: .max, count: 1) }
    }

    @Test func incrementalPointReusesParentChunksAndStandsAlone() throws {
        let fixture = try PointFixture()
        var changed = fixture.image
        for offset in stride(from: 5 * PointFixture.chunkSize + 17, to: 6 * PointFixture.chunkSize, by: 1000) {
            changed[offset] ^= 0xFF
        }
        let changedPath = fixture.directory.file("disk-v2.img")
        try ImageBuilder.write(changed, to: changedPath)
        let before = try fixture.chunkFiles().count
        var request = PointRequest(images: [changedPath], kek: try .init(parsing: "backup"))
        request.chunkSizeLog2 = 16
        request.parent = fixture.id
        let (child, statistics) = try PointWriter.create(request, store: fixture.store, provider: fixture.keyring)
        #expect(statistics.newChunks == 1)
        #expect(try fixture.chunkFiles().count == before + 1)
        let header = try OpenedPoint.header(child, in: fixture.store)
        #expect(header.parent == fixture.id)
        // The parent's point file goes away: the child still reads completely.
        try FileManager.default.removeItem(atPath: fixture.pointPath)
        let disk = RecoveryPointDisk.disks(of: try fixture.open(child))[0]
        #expect(try disk.readAll() == changed)
    }
}
