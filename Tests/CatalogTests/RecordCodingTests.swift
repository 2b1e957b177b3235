import ByteParsing
@testable import Catalog
import PointNamespace
import TestSupport
import Testing
import VolumeModel

/// The record format on its own: what is written reads back equal, and damaged bytes end in
/// an error, never a crash or an unbounded allocation.
@Suite struct RecordCodingTests {
    static func entries() -> [CatalogEntry] {
        var directory = CatalogEntry(path: "/disk0/part1/etc", kind: .directory)
        directory.permissions = 0o755
        directory.linkCount = 3
        directory.modified = Timestamp(seconds: -86_400, nanoseconds: 999_999_999)
        var file = CatalogEntry(path: "/disk0/part1/etc/hostname", kind: .regular)
        file.size = 1 << 40
        file.uid = .max
        file.created = Timestamp(seconds: .max, nanoseconds: 1)
        file.attributesDigest = Array(repeating: 7, count: 32)
        file.caseSensitive = false
        file.content = CatalogContent(encoding: .lznt1(unitBytes: 65536, initializedSize: 12345), inlineDigest: [1, 2, 3],
                                      pieces: [ChunkPiece(fileOffset: 0, length: 4096, disk: 2, chunk: .max, offsetInChunk: 8192)])
        var link = CatalogEntry(path: "/disk0/part1/etc/link", kind: .symlink)
        link.symlinkTarget = Array("hostname".utf8)
        var broken = CatalogEntry(path: "/disk0/part3", kind: .directory)
        broken.problem = "not readable: contents not recognised"
        return [directory, file, link, broken]
    }

    static func encoded(_ entries: [CatalogEntry]) -> [UInt8] {
        var writer = ByteWriter()
        var previous: [UInt8] = []
        for entry in entries {
            RecordCoding.encode(entry, after: previous, into: &writer)
            previous = Array(entry.path.utf8)
        }
        return writer.bytes
    }

    static func decodeAll(_ bytes: [UInt8]) throws(ByteParsingError) -> [CatalogEntry] {
        var reader = ByteReader(bytes)
        var previous: [UInt8] = []
        var decoded: [CatalogEntry] = []
        while !reader.isAtEnd {
            let (entry, path) = try RecordCoding.decode(&reader, after: previous)
            decoded.append(entry)
            previous = path
        }
        return decoded
    }

    @Test func recordsReadBackAsWritten() throws {
        let entries = Self.entries()
        #expect(try Self.decodeAll(Self.encoded(entries)) == entries)
    }

    @Test func damagedRecordsFailCleanly() {
        let pristine = Self.encoded(Self.entries())
        var random = SeededBytes(seed: 11)
        var failures = 0
        for _ in 0 ..< 5000 {
            var bytes = pristine
            for _ in 0 ... random.int(below: 4) {
                bytes[random.int(below: bytes.count)] = UInt8(truncatingIfNeeded: random.next())
            }
            if random.int(below: 4) == 0 { bytes.removeLast(random.int(below: bytes.count)) }
            if (try? Self.decodeAll(bytes)) == nil { failures += 1 }
        }
        // Most damage is caught by the parse itself (the rest by the segment's tag).
        #expect(failures > 1000)
    }

    @Test func pathOrderPutsASubtreeBeforeTheNextSibling() {
        let paths = ["/a.txt", "/a/b", "/a", "/b", "/a/b/c", "/a-b", "/"]
        #expect(paths.sorted { PathOrder.precedes($0, $1) } == ["/", "/a", "/a/b", "/a/b/c", "/a-b", "/a.txt", "/b"])
    }
}
