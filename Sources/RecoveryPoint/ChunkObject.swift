import ByteParsing
import Cryptography
import Pools

/// An owned buffer holding one chunk object; after `open`, `payload` is the plaintext.
/// Decryption happens in place, so a chunk costs one allocation and no copies.
public final class ChunkBuffer: @unchecked Sendable {
    // Written only before the buffer is shared (load, then decrypt); read-only afterwards.
    let storage: UnsafeMutableRawBufferPointer
    let payloadRange: Range<Int>
    /// Where the storage came from and goes back to.
    private let pool: BufferPool

    init(objectSize: Int, payloadRange: Range<Int>, pool: BufferPool) {
        storage = pool.take(objectSize)
        self.payloadRange = payloadRange
        self.pool = pool
    }

    deinit {
        // No wipe needed: a pooled buffer is overwritten by the next object read into it, and
        // an unmapped one is zeroed by the kernel before any reuse.
        pool.give(storage)
    }

    /// The storage up to the end of its last page: page-aligned whole pages, as an uncached read wants.
    var pages: UnsafeMutableRawBufferPointer { pool.pages(of: storage) }

    public var payload: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[payloadRange]) }
    public var count: Int { payloadRange.count }

    /// An unfilled buffer for the object of a chunk of `plaintextLength` bytes: what a store
    /// reads an object into.
    public convenience init(objectFor plaintextLength: Int, pool: BufferPool) {
        self.init(objectSize: ChunkObject.objectSize(plaintext: plaintextLength),
                  payloadRange: ChunkObject.headerSize ..< ChunkObject.headerSize + plaintextLength, pool: pool)
    }

    /// The whole object (header, ciphertext, tag), for a store to fill or send.
    public var objectBytes: UnsafeMutableRawBufferPointer { storage }
    /// `objectBytes` to the end of its last page: page-aligned whole pages, as an uncached read wants.
    public var objectPages: UnsafeMutableRawBufferPointer { pages }
}

/// The chunk object format: magic, nonce, ciphertext, tag. See docs/FORMAT.md.
enum ChunkObject {
    /// "RPFSCHK" then 0x1A.
    static let magic: [UInt8] = Array("RPFSCHK".utf8) + [0x1A]
    static let headerSize = magic.count + AES256GCM.nonceSize
    static let overhead = headerSize + AES256GCM.tagSize

    static func objectSize(plaintext length: Int) -> Int { length + overhead }

    /// Associated data: binds the ciphertext to its id, its key domain and its length, so an
    /// object stored under another id, from another domain, or cut short never authenticates.
    static func associatedData(id: ChunkID, domain: [UInt8], length: Int) -> [UInt8] {
        var writer = ByteWriter(capacity: 64)
        writer.append(bytes: magic)
        writer.append(bytes: domain)
        writer.append(bytes: id.bytes)
        writer.append(UInt32(length))
        return writer.bytes
    }

    /// Encrypts `plaintext` into a complete chunk object.
    static func seal(_ plaintext: UnsafeRawBufferPointer, id: ChunkID, keys: KeySchedule, pool: BufferPool) throws(CryptoError) -> ChunkBuffer {
        let object = ChunkBuffer(objectSize: objectSize(plaintext: plaintext.count),
                                 payloadRange: headerSize ..< headerSize + plaintext.count, pool: pool)
        let nonce = try Random.bytes(AES256GCM.nonceSize)
        let tag = try AES256GCM.seal(key: try keys.chunkKey(for: id), nonce: nonce,
                                     aad: associatedData(id: id, domain: keys.domain, length: plaintext.count),
                                     plaintext: plaintext, into: UnsafeMutableRawBufferPointer(rebasing: object.storage[object.payloadRange]))
        object.storage.copyBytes(from: magic + nonce)
        UnsafeMutableRawBufferPointer(rebasing: object.storage[object.payloadRange.upperBound...]).copyBytes(from: tag)
        return object
    }

    /// Authenticates and decrypts an object read from the store, in place.
    /// On any failure the buffer holds no plaintext.
    static func open(_ object: ChunkBuffer, id: ChunkID, keys: KeySchedule) throws(RecoveryPointError.ChunkFault) {
        let storage = object.storage
        guard storage.count == objectSize(plaintext: object.count) else { throw .wrongSize }
        guard Array(storage[0 ..< magic.count]) == magic else { throw .badMagic }
        let nonce = Array(storage[magic.count ..< headerSize])
        let tag = Array(storage[object.payloadRange.upperBound...])
        let region = UnsafeMutableRawBufferPointer(rebasing: storage[object.payloadRange])
        do {
            try AES256GCM.open(key: try keys.chunkKey(for: id), nonce: nonce,
                               aad: associatedData(id: id, domain: keys.domain, length: object.count),
                               ciphertext: UnsafeRawBufferPointer(region), tag: tag, into: region)
        } catch .authenticationFailed {
            throw .authenticationFailed
        } catch {
            throw .crypto(error)
        }
    }
}
