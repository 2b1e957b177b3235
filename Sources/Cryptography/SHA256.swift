import COpenSSL

/// Incremental SHA-256, for proving what a restore wrote (reports carry the digest of every
/// file, comparable with `sha256sum`). Not a secret-handling primitive: digests are public.
public final class SHA256Hasher {
    private let context: OpaquePointer
    /// Zeros fed for holes, so sparse files hash like the bytes a reader sees.
    private static let zeros = [UInt8](repeating: 0, count: 1 << 16)

    public init() throws(CryptoError) {
        _ = OpenSSLRuntime.ready
        guard let context = EVP_MD_CTX_new() else { throw CryptoError.library("EVP_MD_CTX_new") }
        guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
            EVP_MD_CTX_free(context)
            throw CryptoError.library("EVP_DigestInit_ex(SHA-256)")
        }
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        // EVP_DigestUpdate on an initialised SHA-256 context cannot fail.
        _ = EVP_DigestUpdate(context, base, bytes.count)
    }

    /// Feeds `count` zero bytes (a hole).
    public func updateZeros(_ count: UInt64) {
        var left = count
        Self.zeros.withUnsafeBytes { zeros in
            while left > 0 {
                let piece = Int(min(left, UInt64(zeros.count)))
                update(UnsafeRawBufferPointer(rebasing: zeros[0 ..< piece]))
                left -= UInt64(piece)
            }
        }
    }

    /// The digest; the hasher cannot be used afterwards.
    public func finish() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        _ = EVP_DigestFinal_ex(context, &digest, &length)
        return digest
    }
}
