import ByteParsing
import Cryptography
import RecoveryPoint

/// Records grouped into segments, each compressed on its own:
///
///     raw length (4) | zlib stream of the records
///
/// so a reader holds one segment at a time, whatever the catalog's size. A segment ends
/// after a record whose path hashes to a boundary, once it holds `minimum` bytes (or at
/// `maximum`): boundaries follow the paths, not the count of bytes before them, so a point
/// that differs a little from its parent shares most segments with the parent's catalog,
/// and a search can reuse what it found in a segment it has seen (`CatalogSegment.digest`).
struct SegmentEncoder {
    static let minimum = 256 << 10
    static let maximum = 4 << 20
    /// One path in this many is a boundary (past `minimum`).
    static let boundaryMask: UInt64 = 255
    /// The most raw bytes of one segment (one record may take a segment past `maximum`).
    static let maxRaw = 48 << 20

    private var records = ByteWriter(capacity: minimum + 4096)
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
        let size = records.bytes.count
        if size >= Self.maximum || size >= Self.minimum && Self.hash(previous) & Self.boundaryMask == 0 {
            try flush(into: &writer, final: false)
        }
    }

    /// FNV-1a: cheap, and the same in every run.
    static func hash(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return hash
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
        records = ByteWriter(capacity: Self.minimum + 4096)
        previous = []
    }
}

/// A catalog's records in order, decoded one segment at a time.
public struct CatalogStream {
    private var object: CatalogObject.Reader
    private let point: PointID
    private var segment: CatalogSegment?
    /// The last record's path, across segments.
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
        while true {
            if segment == nil {
                guard let next = try nextSegment() else { return nil }
                segment = next
            }
            if let entry = try segment?.next() {
                let path = Array(entry.path.utf8)
                if let lastPath, PathOrder.precedes(path, lastPath) {
                    throw .malformed(point, "\(entry.path) is out of order")
                }
                lastPath = path
                return entry
            }
            segment = nil
        }
    }

    /// The next segment whole, for a reader that can reuse what it found in a segment with
    /// the same digest; nil after the last. Records read this way are not checked for order
    /// across segments (`next` checks them).
    public mutating func nextSegment() throws(CatalogError) -> CatalogSegment? {
        let sealed: [UInt8]?
        do {
            sealed = try object.next()
        } catch {
            throw .point(error)
        }
        return try sealed.map { (plaintext) throws(CatalogError) in try CatalogSegment(plaintext, point: point) }
    }
}

/// One segment's records.
public struct CatalogSegment {
    /// SHA-256 of the segment's plaintext: equal digests, equal records.
    public let digest: [UInt8]
    private let point: PointID
    private var reader: ByteReader
    private var previous: [UInt8] = []

    init(_ plaintext: [UInt8], point: PointID) throws(CatalogError) {
        self.point = point
        do {
            let hasher = try SHA256Hasher()
            plaintext.withUnsafeBytes { hasher.update($0) }
            digest = hasher.finish()
        } catch {
            throw .point(.crypto(error))
        }
        var sealed = ByteReader(plaintext)
        do throws(ByteParsingError) {
            let raw = Int(try sealed.u32("segment length"))
            guard raw <= SegmentEncoder.maxRaw, let records = Compression.inflate(try sealed.bytes(sealed.remaining, "segment"), count: raw) else {
                throw .invalid(what: "segment", at: 0, reason: "does not inflate to its \(raw) bytes")
            }
            reader = ByteReader(records)
        } catch {
            throw .malformed(point, "\(error)")
        }
    }

    /// The next record of the segment, in order; nil after its last.
    public mutating func next() throws(CatalogError) -> CatalogEntry? {
        guard !reader.isAtEnd else { return nil }
        do throws(ByteParsingError) {
            let (entry, path) = try RecordCoding.decode(&reader, after: previous)
            if !previous.isEmpty, PathOrder.precedes(path, previous) {
                throw .invalid(what: "record", at: UInt64(reader.offset), reason: "\(entry.path) is out of order")
            }
            previous = path
            return entry
        } catch {
            throw .malformed(point, "\(error)")
        }
    }
}
