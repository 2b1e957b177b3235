import ByteParsing
import KeyManagement

/// Constants of the point file format; docs/FORMAT.md describes each byte.
public enum PointFormat {
    public static let version: UInt16 = 1
    /// "RPFSPNT" then 0x1A, so a text tool stops before binary data.
    static let magic: [UInt8] = Array("RPFSPNT".utf8) + [0x1A]
    static let fixedHeaderSize = 110
    static let maxHeaderSize = 1 << 20
    static let maxSourceNameLength = 1024
    static let maxDisks = 64
    static let maxWrappedKeys = 32
    static let maxWrappedKeyLength = 1024
    static let domainSize = 16
    static let saltSize = 32
}

/// The public part of a point: everything readable without a key. It is also the
/// associated data of the sealed manifest, so once the DEK is known every byte is checked.
public struct PointHeader: Sendable, Equatable {
    public var id: PointID
    /// Nanoseconds since the Unix epoch.
    public var created: Int64
    public var parent: PointID?
    /// Random id of the DEK's key domain; chunks are bound to it.
    public var domain: [UInt8]
    /// Fresh for every write of the point file: the manifest key is derived from it.
    public var manifestSalt: [UInt8]
    public var guestEncryption: GuestEncryption
    public var sourceName: String
    public var disks: [DiskLayout]
    /// Stored (non-hole) chunk count per disk, in disk order.
    public var storedChunks: [UInt64]
    public var wrappedKeys: [WrappedKey]

    func serialize() -> [UInt8] {
        var body = ByteWriter()
        body.append(bytes: id.bytes)
        body.append(created)
        body.append(bytes: parent?.bytes ?? [UInt8](repeating: 0, count: PointID.size))
        body.append(bytes: domain)
        body.append(bytes: manifestSalt)
        body.append(guestEncryption.rawValue)
        body.append(UInt8(disks.count))
        body.append(UInt8(wrappedKeys.count))
        body.append(UInt8(0))
        let source = Array(sourceName.utf8)
        body.append(UInt16(source.count))
        body.append(bytes: source)
        for (disk, stored) in zip(disks, storedChunks) {
            let name = Array(disk.name.utf8)
            body.append(UInt8(name.count))
            body.append(bytes: name)
            body.append(disk.size)
            body.append(disk.chunkSizeLog2)
            body.append(stored)
        }
        for key in wrappedKeys {
            body.append(key.algorithm.rawValue)
            for component in [key.kek.name, key.kek.version] {
                body.append(UInt8(component.utf8.count))
                body.append(bytes: component.utf8)
            }
            body.append(UInt16(key.bytes.count))
            body.append(bytes: key.bytes)
        }
        var header = ByteWriter(capacity: 16 + body.bytes.count)
        header.append(bytes: PointFormat.magic)
        header.append(PointFormat.version)
        header.append(UInt16(0))
        header.append(UInt32(16 + body.bytes.count))
        header.append(bytes: body.bytes)
        return header.bytes
    }

    /// Parses and validates a header from the start of a point file.
    /// Returns the header and its length in bytes.
    static func parse(_ file: [UInt8]) throws(RecoveryPointError) -> (PointHeader, Int) {
        var reader = ByteReader(file)
        var id: PointID?
        do {
            guard try reader.bytes(8, "magic") == PointFormat.magic else {
                throw RecoveryPointError.malformedPoint(nil, reason: "not an rpfs point file (bad magic)")
            }
            let version = try reader.u16("format version")
            guard version == PointFormat.version else { throw RecoveryPointError.unsupportedFormatVersion(nil, version: version) }
            let flags = try reader.u16("header flags")
            guard flags == 0 else { throw ByteParsingError.invalid(what: "header flags", at: 10, reason: "unknown flags \(flags)") }
            let length = Int(try reader.u32("header length"))
            guard length >= PointFormat.fixedHeaderSize, length <= PointFormat.maxHeaderSize, length <= file.count else {
                throw ByteParsingError.invalid(what: "header length", at: 12, reason: "\(length) is outside \(PointFormat.fixedHeaderSize)...\(min(PointFormat.maxHeaderSize, file.count))")
            }
            reader = ByteReader(Array(file.prefix(length)))
            try reader.seek(to: 16)
            id = PointID(bytes: try reader.bytes(PointID.size, "point id"))
            let header = try parseFields(&reader, id: id)
            guard reader.isAtEnd else {
                throw ByteParsingError.invalid(what: "header", at: UInt64(reader.offset), reason: "\(reader.remaining) unexpected bytes before the header's end")
            }
            return (header, length)
        } catch let error as RecoveryPointError {
            throw error
        } catch let error as ByteParsingError {
            throw .malformed(id, error)
        } catch {
            throw .malformedPoint(id, reason: "\(error)")
        }
    }

    private static func parseFields(_ reader: inout ByteReader, id: PointID?) throws -> PointHeader {
        guard let id else { throw ByteParsingError.invalid(what: "point id", at: 16, reason: "missing") }
        let created = try reader.i64("creation time")
        let parentBytes = try reader.bytes(PointID.size, "parent id")
        let parent = parentBytes.allSatisfy { $0 == 0 } ? nil : PointID(bytes: parentBytes)
        let domain = try reader.bytes(PointFormat.domainSize, "key domain")
        let salt = try reader.bytes(PointFormat.saltSize, "manifest salt")
        let guestAt = UInt64(reader.offset)
        let guestCode = try reader.u8("guest encryption")
        guard let guest = GuestEncryption(rawValue: guestCode) else {
            throw ByteParsingError.invalid(what: "guest encryption", at: guestAt, reason: "unknown code \(guestCode)")
        }
        let diskCount = Int(try reader.u8("disk count"))
        let keyCount = Int(try reader.u8("wrapped key count"))
        let reserved = try reader.u8("reserved")
        guard (1 ... PointFormat.maxDisks).contains(diskCount) else {
            throw ByteParsingError.invalid(what: "disk count", at: guestAt + 1, reason: "\(diskCount) is outside 1...\(PointFormat.maxDisks)")
        }
        guard (1 ... PointFormat.maxWrappedKeys).contains(keyCount) else {
            throw ByteParsingError.invalid(what: "wrapped key count", at: guestAt + 2, reason: "\(keyCount) is outside 1...\(PointFormat.maxWrappedKeys)")
        }
        guard reserved == 0 else { throw ByteParsingError.invalid(what: "reserved byte", at: guestAt + 3, reason: "must be 0") }
        let sourceLength = Int(try reader.u16("source name length"))
        guard sourceLength <= PointFormat.maxSourceNameLength else {
            throw ByteParsingError.invalid(what: "source name length", at: guestAt + 4, reason: "\(sourceLength) exceeds \(PointFormat.maxSourceNameLength)")
        }
        let sourceName = try reader.utf8(sourceLength, "source name")

        var disks: [DiskLayout] = []
        var stored: [UInt64] = []
        for _ in 0 ..< diskCount {
            let at = UInt64(reader.offset)
            let name = try reader.utf8(Int(try reader.u8("disk name length")), "disk name")
            guard SafeName.isValid(name), !disks.contains(where: { $0.name == name }) else {
                throw ByteParsingError.invalid(what: "disk name", at: at, reason: "'\(name)' is not a valid, unique disk name")
            }
            let size = try reader.u64("disk size")
            guard (1 ... DiskLayout.maxSize).contains(size) else {
                throw ByteParsingError.invalid(what: "disk size", at: at, reason: "\(size) is outside 1...\(DiskLayout.maxSize)")
            }
            let log2 = try reader.u8("chunk size")
            guard (DiskLayout.minChunkSizeLog2 ... DiskLayout.maxChunkSizeLog2).contains(log2) else {
                throw ByteParsingError.invalid(what: "chunk size", at: at, reason: "2^\(log2) is outside 64 KiB...16 MiB")
            }
            let disk = DiskLayout(name: name, size: size, chunkSizeLog2: log2)
            let count = try reader.u64("stored chunk count")
            guard count <= disk.chunkCount else {
                throw ByteParsingError.invalid(what: "stored chunk count", at: at, reason: "\(count) exceeds the disk's \(disk.chunkCount) chunks")
            }
            disks.append(disk)
            stored.append(count)
        }

        var keys: [WrappedKey] = []
        for _ in 0 ..< keyCount {
            let at = UInt64(reader.offset)
            let code = try reader.u8("wrap algorithm")
            guard let algorithm = WrapAlgorithm(rawValue: code) else {
                throw ByteParsingError.invalid(what: "wrap algorithm", at: at, reason: "unknown code \(code)")
            }
            let name = try reader.utf8(Int(try reader.u8("KEK name length")), "KEK name")
            let version = try reader.utf8(Int(try reader.u8("KEK version length")), "KEK version")
            guard let kek = try? KEKIdentifier(name: name, version: version) else {
                throw ByteParsingError.invalid(what: "KEK id", at: at, reason: "'\(name)/\(version)' is not a valid KEK id")
            }
            let length = Int(try reader.u16("wrapped key length"))
            guard (1 ... PointFormat.maxWrappedKeyLength).contains(length) else {
                throw ByteParsingError.invalid(what: "wrapped key length", at: at, reason: "\(length) is outside 1...\(PointFormat.maxWrappedKeyLength)")
            }
            keys.append(WrappedKey(kek: kek, algorithm: algorithm, bytes: try reader.bytes(length, "wrapped key")))
        }
        return PointHeader(id: id, created: created, parent: parent, domain: domain, manifestSalt: salt,
                           guestEncryption: guest, sourceName: sourceName, disks: disks, storedChunks: stored, wrappedKeys: keys)
    }
}
