import ByteParsing
import PointNamespace
import VolumeModel

/// The record format inside a catalog segment (docs/FORMAT.md, *Catalog records*): each
/// path front-coded against the record before it in the same segment, integers as LEB128
/// varints, so a segment decodes on its own.
enum RecordCoding {
    static let kinds: [NodeKind] = [.regular, .directory, .symlink, .blockDevice, .characterDevice, .fifo, .socket]
    /// The most bytes of one symlink target, problem text or digest a reader accepts.
    static let maxField = 1 << 16
    /// The most bytes of a path's suffix: more than the deepest walk (`CatalogBuilder.maxDepth`
    /// names of 255 bytes) can make.
    static let maxPath = 1 << 20
    /// The most pieces of one file a reader accepts (a file in a million fragments).
    static let maxPieces = 1 << 20

    enum Flag {
        static let created: UInt8 = 1
        static let problem: UInt8 = 2
        static let content: UInt8 = 4
        static let caseInsensitive: UInt8 = 8
    }

    static func encode(_ entry: CatalogEntry, after previous: [UInt8], into writer: inout ByteWriter) {
        let path = Array(entry.path.utf8)
        var shared = 0
        while shared < min(path.count, previous.count), path[shared] == previous[shared] { shared += 1 }
        varint(UInt64(shared), &writer)
        field(Array(path[shared...]), &writer)
        writer.append(UInt8(kinds.firstIndex(of: entry.kind) ?? 0))
        var flags: UInt8 = 0
        if entry.created != nil { flags |= Flag.created }
        if entry.problem != nil { flags |= Flag.problem }
        if entry.content != nil { flags |= Flag.content }
        if !entry.caseSensitive { flags |= Flag.caseInsensitive }
        writer.append(flags)
        for value in [UInt64(entry.permissions), UInt64(entry.uid), UInt64(entry.gid), entry.size, entry.node, UInt64(entry.linkCount)] {
            varint(value, &writer)
        }
        for time in [entry.accessed, entry.modified, entry.changed] + (entry.created.map { [$0] } ?? []) {
            timestamp(time, &writer)
        }
        field(entry.symlinkTarget, &writer)
        field(entry.attributesDigest, &writer)
        if let problem = entry.problem { field(Array(problem.utf8.prefix(maxField)), &writer) }
        if let content = entry.content {
            switch content.encoding {
            case .plain:
                writer.append(UInt8(0))
            case let .lznt1(unitBytes, initializedSize):
                writer.append(UInt8(1))
                varint(unitBytes, &writer)
                varint(initializedSize, &writer)
            }
            field(content.inlineDigest, &writer)
            varint(UInt64(content.pieces.count), &writer)
            for piece in content.pieces {
                for value in [piece.fileOffset, piece.length, UInt64(piece.disk), piece.chunk, piece.offsetInChunk] {
                    varint(value, &writer)
                }
            }
        }
    }

    static func decode(_ reader: inout ByteReader, after previous: [UInt8]) throws(ByteParsingError) -> (CatalogEntry, [UInt8]) {
        let shared = try count(&reader, limit: previous.count, "shared path length")
        let path = Array(previous[..<shared]) + (try field(&reader, "path", limit: maxPath))
        let kindIndex = Int(try reader.u8("kind"))
        guard kindIndex < kinds.count else { throw .invalid(what: "record", at: UInt64(reader.offset), reason: "kind \(kindIndex)") }
        var entry = CatalogEntry(path: String(decoding: path, as: UTF8.self), kind: kinds[kindIndex])
        let flags = try reader.u8("flags")
        entry.caseSensitive = flags & Flag.caseInsensitive == 0
        entry.permissions = try uint16(&reader, "permissions")
        entry.uid = try uint32(&reader, "uid")
        entry.gid = try uint32(&reader, "gid")
        entry.size = try varint(&reader, "size")
        entry.node = try varint(&reader, "node")
        entry.linkCount = try uint32(&reader, "link count")
        entry.accessed = try timestamp(&reader)
        entry.modified = try timestamp(&reader)
        entry.changed = try timestamp(&reader)
        if flags & Flag.created != 0 { entry.created = try timestamp(&reader) }
        entry.symlinkTarget = try field(&reader, "symlink target")
        entry.attributesDigest = try field(&reader, "attributes digest")
        if flags & Flag.problem != 0 { entry.problem = String(decoding: try field(&reader, "problem"), as: UTF8.self) }
        if flags & Flag.content != 0 {
            let encoding: FilePlacement.Encoding
            switch try reader.u8("encoding") {
            case 0: encoding = .plain
            case 1: encoding = .lznt1(unitBytes: try varint(&reader, "unit size"), initializedSize: try varint(&reader, "initialized size"))
            case let other: throw .invalid(what: "record", at: UInt64(reader.offset), reason: "encoding \(other)")
            }
            let inline = try field(&reader, "inline digest")
            let pieceCount = try count(&reader, limit: maxPieces, "piece count")
            var pieces: [ChunkPiece] = []
            pieces.reserveCapacity(pieceCount)
            for _ in 0 ..< pieceCount {
                pieces.append(ChunkPiece(fileOffset: try varint(&reader, "file offset"), length: try varint(&reader, "length"),
                                         disk: try count(&reader, limit: 255, "disk"), chunk: try varint(&reader, "chunk"),
                                         offsetInChunk: try varint(&reader, "offset in chunk")))
            }
            entry.content = CatalogContent(encoding: encoding, inlineDigest: inline, pieces: pieces)
        }
        return (entry, path)
    }

    // MARK: Fields

    static func varint(_ value: UInt64, _ writer: inout ByteWriter) {
        var rest = value
        while rest >= 0x80 {
            writer.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        writer.append(UInt8(rest))
    }

    static func varint(_ reader: inout ByteReader, _ what: String) throws(ByteParsingError) -> UInt64 {
        try reader.leb128(what)
    }

    // Concrete widths, not a generic: decoding runs once per field of millions of records.
    private static func uint32(_ reader: inout ByteReader, _ what: String) throws(ByteParsingError) -> UInt32 {
        let value = try varint(&reader, what)
        guard value <= UInt64(UInt32.max) else { throw .invalid(what: what, at: UInt64(reader.offset), reason: "\(value) is over 32 bits") }
        return UInt32(truncatingIfNeeded: value)
    }

    private static func uint16(_ reader: inout ByteReader, _ what: String) throws(ByteParsingError) -> UInt16 {
        let value = try uint32(&reader, what)
        guard value <= UInt32(UInt16.max) else { throw .invalid(what: what, at: UInt64(reader.offset), reason: "\(value) is over 16 bits") }
        return UInt16(truncatingIfNeeded: value)
    }

    private static func count(_ reader: inout ByteReader, limit: Int, _ what: String) throws(ByteParsingError) -> Int {
        let value = try varint(&reader, what)
        guard value <= UInt64(limit) else { throw .invalid(what: what, at: UInt64(reader.offset), reason: "\(value), over \(limit)") }
        return Int(value)
    }

    private static func field(_ bytes: [UInt8], _ writer: inout ByteWriter) {
        varint(UInt64(bytes.count), &writer)
        writer.append(bytes: bytes)
    }

    private static func field(_ reader: inout ByteReader, _ what: String, limit: Int = maxField) throws(ByteParsingError) -> [UInt8] {
        try reader.bytes(try count(&reader, limit: limit, what), what)
    }

    /// Seconds zigzag-coded (times before 1970 stay short), then nanoseconds.
    private static func timestamp(_ time: Timestamp, _ writer: inout ByteWriter) {
        varint(UInt64(bitPattern: (time.seconds << 1) ^ (time.seconds >> 63)), &writer)
        varint(UInt64(time.nanoseconds), &writer)
    }

    private static func timestamp(_ reader: inout ByteReader) throws(ByteParsingError) -> Timestamp {
        let zigzag = try varint(&reader, "seconds")
        let seconds = Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1)
        let nanoseconds = try uint32(&reader, "nanoseconds")
        guard nanoseconds < 1_000_000_000 else { throw .invalid(what: "nanoseconds", at: UInt64(reader.offset), reason: "\(nanoseconds)") }
        return Timestamp(seconds: seconds, nanoseconds: nanoseconds)
    }
}
