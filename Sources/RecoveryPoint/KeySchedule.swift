import Cryptography

/// Every key rpfs uses is derived from the point's DEK with HKDF-SHA256, each under its own
/// label, so no two purposes ever share a key. The DEK itself encrypts nothing.
///
/// - chunk-id key: `HKDF(DEK, salt: domain, info: "rpfs/1 chunk-id")`, the HMAC key for chunk ids.
/// - chunk key: `HKDF(DEK, salt: domain, info: "rpfs/1 chunk" || chunkID)`, one per distinct
///   chunk content, so a (key, nonce) pair can only repeat for identical plaintext.
/// - manifest key: `HKDF(DEK, salt: manifestSalt, info: "rpfs/1 manifest" || pointID)`,
///   fresh for every write of a point file (new random salt), used for one message.
/// - catalog key: `HKDF(DEK, salt: catalogSalt, info: "rpfs/1 catalog" || pointID)`, fresh
///   for every write of a catalog (new random salt); each segment has its own random nonce.
/// - fingerprint key: `HKDF(DEK, salt: domain, info: "rpfs/1 fingerprint")`, the HMAC key a
///   catalog hashes small contents and attributes with (comparable within one domain).
public final class KeySchedule: Sendable {
    public let domain: [UInt8]
    private let dek: SecretBytes
    private let chunkIDKey: SecretBytes
    private let fingerprintKey: SecretBytes

    public init(dek: SecretBytes, domain: [UInt8]) throws(CryptoError) {
        self.dek = dek
        self.domain = domain
        chunkIDKey = try KeyDerivation.hkdfSHA256(secret: dek, salt: domain, info: Array("rpfs/1 chunk-id".utf8), count: 32)
        fingerprintKey = try KeyDerivation.hkdfSHA256(secret: dek, salt: domain, info: Array("rpfs/1 fingerprint".utf8), count: 32)
    }

    /// The DEK, for wrapping under another KEK (rewrap, incremental points).
    var dataEncryptionKey: SecretBytes { dek }

    public func chunkID(of plaintext: UnsafeRawBufferPointer) throws(CryptoError) -> ChunkID {
        ChunkID(uncheckedBytes: try KeyDerivation.hmacSHA256(key: chunkIDKey, message: plaintext))
    }

    func chunkKey(for id: ChunkID) throws(CryptoError) -> SecretBytes {
        try KeyDerivation.hkdfSHA256(secret: dek, salt: domain, info: Array("rpfs/1 chunk".utf8) + id.bytes, count: AES256GCM.keySize)
    }

    func catalogKey(salt: [UInt8], point: PointID) throws(CryptoError) -> SecretBytes {
        try KeyDerivation.hkdfSHA256(secret: dek, salt: salt, info: Array("rpfs/1 catalog".utf8) + point.bytes, count: AES256GCM.keySize)
    }

    /// HMAC-SHA256 under the fingerprint key: equal for equal bytes in one key domain only.
    func fingerprint(of bytes: UnsafeRawBufferPointer) throws(CryptoError) -> [UInt8] {
        try KeyDerivation.hmacSHA256(key: fingerprintKey, message: bytes)
    }

    func manifestKey(salt: [UInt8], point: PointID) throws(CryptoError) -> SecretBytes {
        try KeyDerivation.hkdfSHA256(secret: dek, salt: salt, info: Array("rpfs/1 manifest".utf8) + point.bytes, count: AES256GCM.keySize)
    }
}
