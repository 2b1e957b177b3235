import BlockDevices
import Foundation
import KeyManagement
import PointDisk
import RecoveryPoint
import TestSupport
import Testing

@Suite struct TamperTests {
    private func flipByte(_ path: String, at offset: Int) throws {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[offset] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: path))
    }

    /// The chunk read fails as an integrity error naming disk and chunk, and never returns bytes.
    private func expectIntegrityError(_ disk: RecoveryPointDisk, chunk index: UInt64, chunkSize: Int) {
        do {
            _ = try disk.read(at: index * UInt64(chunkSize), count: 10)
            Issue.record("a tampered chunk was served")
        } catch let DiskReadError.source(failure as ChunkFailure) {
            let error = failure.error
            let text = "\(error)"
            #expect(text.contains("integrity error"), "\(text)")
            #expect(text.contains("disk disk0 chunk \(index)"), "\(text)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func flippedByteInAChunkFailsAuthentication() throws {
        let fixture = try PointFixture()
        let point = try fixture.open()
        let (index, id) = point.maps[0].entries[1]
        let path = fixture.chunkPath(id)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        // A byte in the nonce, the ciphertext and the tag.
        for offset in [10, 100, size - 1] {
            try flipByte(path, at: offset)
            let disk = RecoveryPointDisk.disks(of: try fixture.open())[0]
            expectIntegrityError(disk, chunk: index, chunkSize: PointFixture.chunkSize)
            try flipByte(path, at: offset)
        }
        // Restored, it reads again; other chunks were never affected.
        let disk = RecoveryPointDisk.disks(of: try fixture.open())[0]
        #expect(try disk.readAll() == fixture.image)
    }

    @Test func swappedChunksAreDetected() throws {
        let fixture = try PointFixture()
        let point = try fixture.open()
        let entries = point.maps[0].entries
        let first = try #require(entries.first)
        let other = try #require(entries.first { $0.id != first.id })
        let a = fixture.chunkPath(first.id)
        let b = fixture.chunkPath(other.id)
        let bytesA = try Data(contentsOf: URL(fileURLWithPath: a))
        let bytesB = try Data(contentsOf: URL(fileURLWithPath: b))
        // Same-size objects swapped: each authenticates only under its own id.
        try bytesB.write(to: URL(fileURLWithPath: a))
        try bytesA.write(to: URL(fileURLWithPath: b))
        let disk = RecoveryPointDisk.disks(of: try fixture.open())[0]
        expectIntegrityError(disk, chunk: first.index, chunkSize: PointFixture.chunkSize)
        expectIntegrityError(disk, chunk: other.index, chunkSize: PointFixture.chunkSize)
    }

    @Test func chunkFromAnotherStoreIsDetected() throws {
        // Same image in two stores; copy store B's object over store A's under A's id.
        let a = try PointFixture(seed: 3)
        let b = try PointFixture(seed: 3)
        let entryA = try #require(try a.open().maps[0].entries.first)
        let entryB = try #require(try b.open().maps[0].entries.first)
        try plant(b.chunkPath(entryB.id), over: a.chunkPath(entryA.id))
        expectIntegrityError(RecoveryPointDisk.disks(of: try a.open())[0], chunk: entryA.index, chunkSize: PointFixture.chunkSize)
    }

    /// A child point shares its parent's DEK and key domain (so unchanged chunks are reused),
    /// which makes the parent's object for a chunk the child changed the strongest replay: same
    /// keys, a genuine object, only for the wrong content. Its id is bound into its key and
    /// associated data, so it does not open as the child's chunk.
    @Test func chunkReplayedFromTheParentPointIsDetected() throws {
        let fixture = try PointFixture()
        var changed = fixture.image
        let victim = 2
        for offset in victim * PointFixture.chunkSize ..< victim * PointFixture.chunkSize + 100 { changed[offset] ^= 0x55 }
        let child = try makeChild(of: fixture, image: changed)
        let parentID = try #require(try fixture.open().maps[0].id(at: UInt64(victim)))
        let childID = try #require(try fixture.open(child).maps[0].id(at: UInt64(victim)))
        #expect(parentID != childID)
        try plant(fixture.chunkPath(parentID), over: fixture.chunkPath(childID))
        expectIntegrityError(RecoveryPointDisk.disks(of: try fixture.open(child))[0], chunk: UInt64(victim), chunkSize: PointFixture.chunkSize)
        // The parent is untouched and still reads completely.
        #expect(try RecoveryPointDisk.disks(of: try fixture.open())[0].readAll() == fixture.image)
    }

    /// Two points made separately from the same image, in the same store, share no chunk:
    /// each has its own key domain, so equal contents get different ids, and one point's
    /// object put in place of the other's does not authenticate.
    @Test func aPointCannotBeMadeToReadAnotherPointsChunks() throws {
        let fixture = try PointFixture()
        let other = try fixture.makePoint(from: [fixture.imagePath])
        let mine = try fixture.open().maps[0].entries
        let theirs = try fixture.open(other).maps[0].entries
        #expect(Set(mine.map(\.id.description)).isDisjoint(with: theirs.map(\.id.description)))
        let target = try #require(mine.first)
        let source = try #require(theirs.first { $0.index == target.index })
        try plant(fixture.chunkPath(source.id), over: fixture.chunkPath(target.id))
        expectIntegrityError(RecoveryPointDisk.disks(of: try fixture.open())[0], chunk: target.index, chunkSize: PointFixture.chunkSize)
    }

    /// A child's header with its parent's sealed manifest: same DEK, same sizes, yet the
    /// manifest key is derived from the point id and the file's own salt, and the header is
    /// the associated data, so the splice is rejected before any chunk map is believed.
    @Test func manifestSplicedFromAnotherPointIsRejected() throws {
        let fixture = try PointFixture()
        var changed = fixture.image
        changed[5 * PointFixture.chunkSize] ^= 1
        let child = try makeChild(of: fixture, image: changed)
        let childPath = fixture.directory.file("store/points/\(child).point")
        let parentFile = try Data(contentsOf: URL(fileURLWithPath: fixture.pointPath))
        let childFile = try Data(contentsOf: URL(fileURLWithPath: childPath))
        let parentHeader = try headerLength(parentFile)
        let childHeader = try headerLength(childFile)
        #expect(parentFile.count - parentHeader == childFile.count - childHeader)
        try (childFile.prefix(childHeader) + parentFile.dropFirst(parentHeader)).write(to: URL(fileURLWithPath: childPath))
        #expect {
            _ = try fixture.open(child)
        } throws: { error in
            guard case RecoveryPointError.metadataTampered(child) = error else { return false }
            return true
        }
    }

    /// Replaying an older copy of a point's own file (from before a rewrap) is not detected:
    /// it is authentic. It can only bring back the old key wrappings, never other contents:
    /// the manifest, and so every byte read, is the same.
    @Test func olderCopyOfThePointFileOnlyRestoresOldKeyWrappings() throws {
        let fixture = try PointFixture()
        let before = try Data(contentsOf: URL(fileURLWithPath: fixture.pointPath))
        _ = try fixture.keyring.createVersion(of: "backup", bits: 2048)
        _ = try Rewrap.rewrap(fixture.id, in: fixture.store, provider: fixture.keyring, to: try KEKReference(parsing: "backup"), keepExisting: false)
        #expect(try fixture.open().kek.description == "backup/2")
        try before.write(to: URL(fileURLWithPath: fixture.pointPath))
        let replayed = try fixture.open()
        #expect(replayed.kek.description == "backup/1")
        #expect(try RecoveryPointDisk.disks(of: replayed)[0].readAll() == fixture.image)
    }

    @Test func truncatedOrExtendedChunksFailOnTheReadPath() throws {
        let fixture = try PointFixture()
        let entry = try fixture.open().maps[0].entries[1]
        let path = fixture.chunkPath(entry.id)
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        for variant in [original.dropLast(), original + Data([0]), original.prefix(20)] {
            try Data(variant).write(to: URL(fileURLWithPath: path))
            expectIntegrityError(RecoveryPointDisk.disks(of: try fixture.open())[0], chunk: entry.index, chunkSize: PointFixture.chunkSize)
        }
    }

    /// Puts the object file at `source` where the store keeps the object at `target`.
    private func plant(_ source: String, over target: String) throws {
        try FileManager.default.removeItem(atPath: target)
        try FileManager.default.copyItem(atPath: source, toPath: target)
    }

    private func makeChild(of fixture: PointFixture, image: [UInt8]) throws -> PointID {
        let path = fixture.directory.file("changed.img")
        try ImageBuilder.write(image, to: path)
        var request = PointRequest(images: [path], kek: try KEKReference(parsing: "backup"))
        request.chunkSizeLog2 = 16
        request.parent = fixture.id
        return try PointWriter.create(request, store: fixture.store, provider: fixture.keyring).0
    }

    /// The header length of a point file: a little-endian u32 at offset 12 (docs/FORMAT.md).
    private func headerLength(_ file: Data) throws -> Int {
        try #require(file.count >= 16)
        return file.dropFirst(12).prefix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
    }

    @Test func missingAndTruncatedChunksAreNamed() throws {
        let fixture = try PointFixture()
        let point = try fixture.open()
        let entries = point.maps[0].entries
        try FileManager.default.removeItem(atPath: fixture.chunkPath(entries[1].id))
        let handle = try #require(FileHandle(forWritingAtPath: fixture.chunkPath(entries[2].id)))
        try handle.truncate(atOffset: 1000)
        try handle.close()
        let report = Verifier.verify(try fixture.open())
        let texts = report.problems.map { "\($0)" }
        #expect(texts.contains { $0.contains("chunk \(entries[1].index) ") && $0.contains("missing") }, "\(texts)")
        #expect(texts.contains { $0.contains("chunk \(entries[2].index) ") && $0.contains("wrong size") }, "\(texts)")
        let range = point.header.disks[0].range(ofChunk: entries[1].index)
        #expect(texts.contains { $0.contains("bytes \(range.lowerBound)-\(range.upperBound - 1)") }, "\(texts)")
    }

    @Test func everyByteOfThePointFileIsProtected() throws {
        let fixture = try PointFixture(chunks: 4, tail: 10)
        let original = try Data(contentsOf: URL(fileURLWithPath: fixture.pointPath))
        var accepted: [Int] = []
        for offset in 0 ..< original.count {
            var bytes = original
            bytes[offset] ^= 0x80
            try bytes.write(to: URL(fileURLWithPath: fixture.pointPath))
            if (try? fixture.open()) != nil { accepted.append(offset) }
        }
        #expect(accepted.isEmpty, "modified point files opened at offsets \(accepted)")
        try original.write(to: URL(fileURLWithPath: fixture.pointPath))
        _ = try fixture.open()
    }

    @Test func truncatedAndPaddedPointFilesAreRejected() throws {
        let fixture = try PointFixture(chunks: 4, tail: 10)
        let original = try Data(contentsOf: URL(fileURLWithPath: fixture.pointPath))
        for variant in [original.prefix(original.count - 1), original + Data([0]), original.prefix(50), Data()] {
            try Data(variant).write(to: URL(fileURLWithPath: fixture.pointPath))
            #expect(throws: RecoveryPointError.self) { try fixture.open() }
        }
    }

    @Test func pointFileCopiedOverAnotherIsRejected() throws {
        let fixture = try PointFixture(chunks: 4, tail: 10)
        let other = try fixture.makePoint(from: [fixture.imagePath])
        let otherPath = fixture.directory.file("store/points/\(other).point")
        try plant(otherPath, over: fixture.pointPath)
        #expect(throws: RecoveryPointError.self) { try fixture.open() }
    }

    @Test func randomGarbagePointFilesNeverTrap() throws {
        let fixture = try PointFixture(chunks: 4, tail: 10)
        let original = try Data(contentsOf: URL(fileURLWithPath: fixture.pointPath))
        var random = SeededBytes(seed: 1234)
        for round in 0 ..< 300 {
            var bytes = [UInt8](original)
            if round % 3 == 0 {
                bytes = random.bytes(random.int(below: 2000))
            } else {
                for _ in 0 ..< 1 + random.int(below: 8) where !bytes.isEmpty {
                    bytes[random.int(below: bytes.count)] = UInt8(truncatingIfNeeded: random.next())
                }
            }
            try Data(bytes).write(to: URL(fileURLWithPath: fixture.pointPath))
            _ = try? OpenedPoint.header(fixture.id, in: fixture.store)
            _ = try? fixture.open()
        }
    }
}
