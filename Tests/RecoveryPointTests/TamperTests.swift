import Foundation
import KeyManagement
import RecoveryPoint
import TestSupport
import Testing
import VirtualDisk

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
        } catch let DiskReadError.chunk(error) {
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
        try FileManager.default.removeItem(atPath: a.chunkPath(entryA.id))
        try FileManager.default.copyItem(atPath: b.chunkPath(entryB.id), toPath: a.chunkPath(entryA.id))
        expectIntegrityError(RecoveryPointDisk.disks(of: try a.open())[0], chunk: entryA.index, chunkSize: PointFixture.chunkSize)
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
        try FileManager.default.removeItem(atPath: fixture.pointPath)
        try FileManager.default.copyItem(atPath: otherPath, toPath: fixture.pointPath)
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
