import ByteParsing
import Cryptography

/// A point file: the public header, then the manifest (every disk's chunk map) sealed with
/// AES-256-GCM under the manifest key, with the whole header as associated data.
///
///     header (H bytes) | nonce (12) | manifest ciphertext (M) | tag (16)
///
/// M is fixed by the header (8 bytes per disk plus 40 per stored chunk), so the file's exact
/// size is known before its body is read, and a truncated or padded file is caught at once.
enum PointFile {
    /// Enough for any header with a few disks and keys; longer headers get a second read.
    static let firstReadSize = 64 * 1024

    /// The header of point `id`, read without any key.
    static func readHeader(_ id: PointID, from store: some ChunkStore) throws(RecoveryPointError) -> (header: PointHeader, file: [UInt8], fileSize: UInt64) {
        var (bytes, size) = try store.readPoint(id, upTo: firstReadSize)
        if bytes.count >= 16 {
            let declared = (try? ByteReader(bytes).integer(at: 12, "header length") as UInt32).map(Int.init) ?? 0
            if declared > bytes.count, declared <= PointFormat.maxHeaderSize {
                (bytes, size) = try store.readPoint(id, upTo: declared)
            }
        }
        let (header, _) = try PointHeader.parse(bytes)
        guard header.id == id else {
            throw .malformedPoint(id, reason: "file holds point \(header.id): a point file was renamed or copied over another")
        }
        return (header, bytes, size)
    }

    /// Manifest plaintext length implied by the header, with overflow checks.
    static func manifestLength(_ header: PointHeader) throws(ByteParsingError) -> Int {
        var total = 0
        for stored in header.storedChunks {
            let entries = try Checked.multiply(try Checked.convert(stored, to: Int.self, "stored chunk count"), 8 + ChunkID.size, "chunk map size")
            total = try Checked.add(total, try Checked.add(entries, 8, "chunk map size"), "manifest size")
        }
        return total
    }

    static func seal(header: PointHeader, maps: [ChunkMap], keys: KeySchedule) throws(CryptoError) -> [UInt8] {
        let headerBytes = header.serialize()
        var manifest = ByteWriter()
        for map in maps { map.serialize(into: &manifest) }
        let nonce = try Random.bytes(AES256GCM.nonceSize)
        let key = try keys.manifestKey(salt: header.manifestSalt, point: header.id)
        let (ciphertext, tag) = try AES256GCM.seal(key: key, nonce: nonce, aad: headerBytes, plaintext: manifest.bytes)
        return headerBytes + nonce + ciphertext + tag
    }

    /// Reads the rest of the file, authenticates everything, and parses the chunk maps.
    static func openManifest(header: PointHeader, file: [UInt8], fileSize: UInt64,
                             from store: some ChunkStore, keys: KeySchedule) throws(RecoveryPointError) -> [ChunkMap] {
        let headerLength: Int
        let expected: Int
        do {
            headerLength = Int(try ByteReader(file).integer(at: 12, "header length") as UInt32)
            let body = try Checked.add(try manifestLength(header), AES256GCM.nonceSize + AES256GCM.tagSize, "point size")
            expected = try Checked.add(headerLength, body, "point size")
        } catch {
            throw .malformed(header.id, error)
        }
        guard fileSize == UInt64(expected) else {
            throw .malformedPoint(header.id, reason: "point file is \(fileSize) bytes, its header implies \(expected) (truncated or padded)")
        }
        var bytes = file
        if bytes.count < expected {
            let (whole, size) = try store.readPoint(header.id, upTo: expected)
            guard size == UInt64(expected), whole.count == expected else {
                throw .malformedPoint(header.id, reason: "point file changed size while being read")
            }
            bytes = whole
        }
        let nonce = Array(bytes[headerLength ..< headerLength + AES256GCM.nonceSize])
        let ciphertext = Array(bytes[headerLength + AES256GCM.nonceSize ..< expected - AES256GCM.tagSize])
        let tag = Array(bytes[(expected - AES256GCM.tagSize)...])
        let manifest: [UInt8]
        do {
            let key = try keys.manifestKey(salt: header.manifestSalt, point: header.id)
            manifest = try AES256GCM.open(key: key, nonce: nonce, aad: Array(bytes[..<headerLength]), ciphertext: ciphertext, tag: tag)
        } catch .authenticationFailed {
            throw .metadataTampered(header.id)
        } catch {
            throw .crypto(error)
        }
        // Authenticated from here on; the parse still checks every bound.
        var reader = ByteReader(manifest)
        do throws(ByteParsingError) {
            var maps: [ChunkMap] = []
            for (disk, stored) in zip(header.disks, header.storedChunks) {
                maps.append(try ChunkMap.parse(&reader, chunkCount: disk.chunkCount, expectedCount: stored))
            }
            guard reader.isAtEnd else {
                throw ByteParsingError.invalid(what: "manifest", at: UInt64(reader.offset), reason: "\(reader.remaining) trailing bytes")
            }
            return maps
        } catch {
            throw .malformed(header.id, error)
        }
    }
}
