import ByteParsing
import RecoveryPoint

/// Records grouped into segments of about `target` bytes, each compressed on its own:
///
///     raw length (4) | zlib stream of the records
///
/// so a reader holds one segment at a time, whatever the catalog's size.
struct SegmentEncoder {
    static let target = 1 << 20
    /// The most raw bytes of one segment (one record may take a segment past `target`).
    static let maxRaw = 48 << 20

    private var records = ByteWriter(capacity: target + 4096)
    private var previous: [UInt8] = []
    private(set) var entries = 0

    mutating func add(_ entry: CatalogEntry, into writer: inout CatalogObject.Writer) throws(CatalogError) {
        let before = records.bytes.count
        RecordCoding.encode(entry, after: previous, into: &records)
        guard records.bytes.count <= Self.maxRaw else {
            throw .tooLarge(path: entry.path, "its catalog record takes \(records.bytes.count - before) bytes, over the format's limit")
        }
        previous = Array(entry.path.utf8)
        entries += 1
        if records.bytes.count >= Self.target { try flush(into: &writer, final: false) }
    }

    mutating func finish(into writer: inout CatalogObject.Writer) throws(CatalogError) {
        try flush(into: &writer, final: true)
    }

    private mutating func flush(into writer: inout CatalogObject.Writer, final: Bool) throws(CatalogError) {
        guard let deflated = Compression.deflate(records.bytes) else {
            throw .tooLarge(path: String(decoding: previous, as: UTF8.self), "zlib could not compress a catalog segment")
        }
        var segment = ByteWriter(capacity: deflated.count + 4)
        segment.append(UInt32(records.bytes.count))
        segment.append(bytes: deflated)
        do {
            try writer.append(segment.bytes, final: final)
        } catch {
            throw .point(error)
        }
        records = ByteWriter(capacity: Self.target + 4096)
        previous = []
    }
}

/// A catalog's records in order, decoded one segment at a time.
public struct CatalogStream {
    private var object: CatalogObject.Reader
    private let point: PointID
    private var segment = ByteReader([])
    private var previous: [UInt8] = []
    /// The previous record's path, across segments.
    private var lastPath: [UInt8]?

    /// The records of `point`'s catalog, fetched and authenticated.
    public init(_ point: OpenedPoint) throws(CatalogError) {
        do {
            object = try point.catalog()
        } catch {
            throw .point(error)
        }
        self.point = point.header.id
    }

    /// The next record; nil after the last.
    public mutating func next() throws(CatalogError) -> CatalogEntry? {
        while segment.isAtEnd {
            let sealed: [UInt8]?
            do {
                sealed = try object.next()
            } catch {
                throw .point(error)
            }
            guard let sealed else { return nil }
            segment = try open(sealed)
            previous = []
        }
        do {
            let (entry, path) = try RecordCoding.decode(&segment, after: previous)
            if let lastPath, PathOrder.precedes(path, lastPath) {
                throw ByteParsingError.invalid(what: "record", at: UInt64(segment.offset), reason: "\(entry.path) is out of order")
            }
            previous = path
            lastPath = path
            return entry
        } catch {
            throw .malformed(point, "\(error)")
        }
    }

    private func open(_ sealed: [UInt8]) throws(CatalogError) -> ByteReader {
        var reader = ByteReader(sealed)
        do throws(ByteParsingError) {
            let raw = Int(try reader.u32("segment length"))
            guard raw <= SegmentEncoder.maxRaw, let records = Compression.inflate(try reader.bytes(reader.remaining, "segment"), count: raw) else {
                throw .invalid(what: "segment", at: 0, reason: "does not inflate to its \(raw) bytes")
            }
            return ByteReader(records)
        } catch {
            throw .malformed(point, "\(error)")
        }
    }
}
