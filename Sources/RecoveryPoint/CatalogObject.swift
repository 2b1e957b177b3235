import ByteParsing
import Cryptography
import POSIXFiles

/// A point's catalog as stored: a public header, then segments, each sealed on its own so a
/// reader holds one segment's plaintext at a time (docs/FORMAT.md, *Catalog object*).
///
///     magic (8) | version (2) | flags (2) | point id (16) | salt (32)
///     then per segment: length n (4) | nonce (12) | ciphertext (n) | tag (16)
///
/// Each segment is sealed under the catalog key with `header || index (8) || final (1)` as
/// associated data: a segment moved, dropped, repeated or taken from another point's catalog
/// fails, and so does a catalog cut after any segment but the one marked final. What the
/// segments hold (compressed records) is the Catalog module's business.
public enum CatalogObject {
    /// "RPFSCAT" then 0x1A.
    static let magic: [UInt8] = Array("RPFSCAT".utf8) + [0x1A]
    public static let version: UInt16 = 1
    static let saltSize = 32
    static let headerSize = magic.count + 4 + PointID.size + saltSize
    /// The most plaintext one segment may hold.
    public static let maxSegment = 64 << 20
    /// The largest catalog object a store fetches into memory.
    public static let maxObject = 1 << 32

    static func associatedData(header: ArraySlice<UInt8>, index: UInt64, final: Bool) -> [UInt8] {
        var writer = ByteWriter(capacity: headerSize + 9)
        writer.append(bytes: Array(header))
        writer.append(index)
        writer.append(UInt8(final ? 1 : 0))
        return writer.bytes
    }

    /// Seals segments one after another into a catalog object of `point`, written to an
    /// unnamed temporary file as they come, so the object never has to fit in memory.
    public struct Writer: Sendable {
        private let header: [UInt8]
        private let key: SecretBytes
        private let file: FileDescriptor
        private var size: UInt64 = 0
        private var index: UInt64 = 0
        private var finished = false

        /// `directory`: where the temporary file goes (the system's temporary directory).
        public init(point: OpenedPoint, directory: String) throws(RecoveryPointError) {
            var header = ByteWriter(capacity: headerSize)
            header.append(bytes: magic)
            header.append(version)
            header.append(UInt16(0))
            header.append(bytes: point.header.id.bytes)
            do {
                let salt = try Random.bytes(saltSize)
                header.append(bytes: salt)
                key = try point.keys.catalogKey(salt: salt, point: point.header.id)
            } catch {
                throw .crypto(error)
            }
            self.header = header.bytes
            do {
                file = try FileDescriptor.anonymous(in: directory)
            } catch {
                throw .io(error)
            }
            try write(self.header)
        }

        private mutating func write(_ bytes: [UInt8]) throws(RecoveryPointError) {
            do {
                try bytes.withUnsafeBytes { buffer in Result { () throws(SystemError) in try file.write(at: size, from: buffer) } }.get()
            } catch {
                throw .io(error)
            }
            size += UInt64(bytes.count)
        }

        /// Appends one segment; the last one must be `final` (an empty catalog is one empty final segment).
        public mutating func append(_ plaintext: [UInt8], final: Bool) throws(RecoveryPointError) {
            guard !finished, plaintext.count <= maxSegment else {
                throw .invalidArgument(finished ? "catalog segment after the final one" : "catalog segment over \(maxSegment) bytes")
            }
            let aad = associatedData(header: header[...], index: index, final: final)
            var frame = ByteWriter(capacity: 4 + AES256GCM.nonceSize + plaintext.count + AES256GCM.tagSize)
            do {
                let nonce = try Random.bytes(AES256GCM.nonceSize)
                let (ciphertext, tag) = try AES256GCM.seal(key: key, nonce: nonce, aad: aad, plaintext: plaintext)
                frame.append(UInt32(plaintext.count))
                frame.append(bytes: nonce + ciphertext + tag)
            } catch {
                throw .crypto(error)
            }
            try write(frame.bytes)
            index += 1
            finished = final
        }

        /// The finished object, mapped from the temporary file.
        public func object() throws(RecoveryPointError) -> CatalogBytes {
            guard finished else { throw .invalidArgument("catalog without its final segment") }
            do {
                return CatalogBytes(try MappedFile(file))
            } catch {
                throw .io(error)
            }
        }
    }

    /// Opens the segments of a catalog object of `point`, one at a time, in order.
    public struct Reader: Sendable {
        private let object: CatalogBytes
        private let header: [UInt8]
        private let point: PointID
        private let key: SecretBytes
        private var offset = headerSize
        private var index: UInt64 = 0
        private var finished = false

        public init(object: CatalogBytes, point: OpenedPoint) throws(RecoveryPointError) {
            let id = point.header.id
            self.object = object
            self.point = id
            guard let header = object.copy(from: 0, count: headerSize) else {
                throw .catalogDamaged(id, reason: "\(object.count) bytes, shorter than a catalog's header")
            }
            self.header = header
            var reader = ByteReader(header)
            let salt: [UInt8]
            do throws(ByteParsingError) {
                guard try reader.bytes(magic.count, "catalog magic") == magic else {
                    throw .invalid(what: "catalog", at: 0, reason: "not a catalog object (bad magic)")
                }
                let version = try reader.u16("catalog version")
                let flags = try reader.u16("catalog flags")
                guard version == CatalogObject.version, flags == 0 else {
                    throw .invalid(what: "catalog", at: 8, reason: "format version \(version), flags \(flags); this rpfs reads version \(CatalogObject.version)")
                }
                guard try reader.bytes(PointID.size, "catalog point id") == id.bytes else {
                    throw .invalid(what: "catalog", at: 12, reason: "it is the catalog of another point")
                }
                salt = try reader.bytes(saltSize, "catalog salt")
            } catch {
                throw .catalogDamaged(id, reason: "\(error)")
            }
            do {
                key = try point.keys.catalogKey(salt: salt, point: id)
            } catch {
                throw .crypto(error)
            }
        }

        /// The next segment's plaintext; nil after the final one.
        public mutating func next() throws(RecoveryPointError) -> [UInt8]? {
            if finished {
                guard offset == object.count else { throw .catalogDamaged(point, reason: "\(object.count - offset) bytes after the final segment") }
                return nil
            }
            guard offset < object.count else { throw .catalogDamaged(point, reason: "it ends without its final segment") }
            let start = offset
            guard let prefix = object.copy(from: start, count: 4) else { throw .catalogDamaged(point, reason: "segment \(index) is cut short") }
            let length = Int(UInt32(prefix[0]) | UInt32(prefix[1]) << 8 | UInt32(prefix[2]) << 16 | UInt32(prefix[3]) << 24)
            guard length <= maxSegment else { throw .catalogDamaged(point, reason: "segment \(index) claims \(length) bytes, over \(maxSegment)") }
            guard let frame = object.copy(from: start + 4, count: AES256GCM.nonceSize + length + AES256GCM.tagSize) else {
                throw .catalogDamaged(point, reason: "segment \(index) is cut short")
            }
            let nonce = Array(frame[..<AES256GCM.nonceSize])
            let ciphertext = Array(frame[AES256GCM.nonceSize ..< AES256GCM.nonceSize + length])
            let tag = Array(frame[(AES256GCM.nonceSize + length)...])
            let end = start + 4 + frame.count
            // Which segment is the final one is authenticated: try the likelier reading first.
            let lastInObject = end == object.count
            for final in [lastInObject, !lastInObject] {
                let aad = associatedData(header: header[...], index: index, final: final)
                if let plaintext = try? AES256GCM.open(key: key, nonce: nonce, aad: aad, ciphertext: ciphertext, tag: tag) {
                    offset = end
                    index += 1
                    finished = final
                    return plaintext
                }
            }
            throw .catalogDamaged(point, reason: "segment \(index) failed authentication (modified, moved or cut)")
        }
    }
}
