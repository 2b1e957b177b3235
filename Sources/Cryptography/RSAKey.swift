import COpenSSL

/// An RSA key pair (or public key) owned by rpfs, freed in `deinit`.
/// Wraps and unwraps DEKs with RSA-OAEP, SHA-256 for both OAEP and MGF1, empty label.
public final class RSAKey: @unchecked Sendable {
    // EVP_PKEY is safe for concurrent use once built; nothing mutates it after init.
    private let pkey: OpaquePointer

    public static let acceptedBits: Set<Int> = [2048, 3072, 4096]

    /// Takes ownership of `pkey`; when validation throws, deinit frees it.
    private init(owning pkey: OpaquePointer) throws(CryptoError) {
        self.pkey = pkey
        guard EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA else {
            throw CryptoError.invalidKey("not an RSA key")
        }
        guard Self.acceptedBits.contains(bits) else {
            throw CryptoError.invalidKey("RSA-\(bits) is not accepted (use 2048, 3072 or 4096 bits)")
        }
    }

    deinit { EVP_PKEY_free(pkey) }

    public var bits: Int { Int(EVP_PKEY_get_bits(pkey)) }

    /// A new key pair from the system's random source.
    public static func generate(bits: Int) throws(CryptoError) -> RSAKey {
        _ = OpenSSLRuntime.ready
        guard acceptedBits.contains(bits) else { throw CryptoError.invalidKey("RSA-\(bits) is not accepted (use 2048, 3072 or 4096 bits)") }
        guard let pkey = rpfs_rsa_generate(UInt32(bits)) else { throw CryptoError.library("RSA key generation") }
        return try RSAKey(owning: pkey)
    }

    /// Parses a PEM private key (PKCS#8 "PRIVATE KEY", or traditional "RSA PRIVATE KEY").
    public static func privateKey(pem: [UInt8]) throws(CryptoError) -> RSAKey {
        try readPEM(pem) { bio in PEM_read_bio_PrivateKey(bio, nil, nil, nil) }
    }

    private static func readPEM(_ pem: [UInt8], _ read: (OpaquePointer) -> OpaquePointer?) throws(CryptoError) -> RSAKey {
        _ = OpenSSLRuntime.ready
        // BIO_new_mem_buf does not copy: the bytes must outlive the BIO, so both live in this scope.
        let parsed: OpaquePointer? = pem.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return read(bio)
        }
        guard let parsed else {
            ERR_clear_error()
            throw CryptoError.invalidKey("not a PEM RSA key")
        }
        return try RSAKey(owning: parsed)
    }

    /// The private key as PKCS#8 PEM.
    public func privateKeyPEM() throws(CryptoError) -> [UInt8] {
        try writePEM { bio in PEM_write_bio_PrivateKey(bio, pkey, nil, nil, 0, nil, nil) }
    }

    private func writePEM(_ write: (OpaquePointer) -> Int32) throws(CryptoError) -> [UInt8] {
        guard let bio = BIO_new(BIO_s_mem()) else { throw CryptoError.library("BIO_new") }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { throw CryptoError.library("PEM write") }
        var data: UnsafeMutablePointer<CChar>?
        let length = rpfs_bio_get_mem_data(bio, &data)
        guard let data, length > 0 else { throw CryptoError.library("BIO_get_mem_data") }
        let bytes = UnsafeRawBufferPointer(start: data, count: length)
        let out = Array(bytes)
        // The BIO held private key text; wipe it before it goes back to the allocator.
        OPENSSL_cleanse(data, length)
        return out
    }

    /// RSA-OAEP-SHA256 encryption of a short secret (a DEK).
    public func wrap(_ secret: SecretBytes) throws(CryptoError) -> [UInt8] {
        let ctx = try oaepContext(encrypt: true)
        defer { EVP_PKEY_CTX_free(ctx) }
        return try secret.withUnsafeBytes { (plain) throws(CryptoError) in
            let input = plain.baseAddress?.assumingMemoryBound(to: UInt8.self)
            var length = 0
            guard EVP_PKEY_encrypt(ctx, nil, &length, input, plain.count) == 1 else { throw CryptoError.library("RSA-OAEP size") }
            var out = [UInt8](repeating: 0, count: length)
            guard EVP_PKEY_encrypt(ctx, &out, &length, input, plain.count) == 1 else { throw CryptoError.library("RSA-OAEP encrypt") }
            return Array(out.prefix(length))
        }
    }

    /// RSA-OAEP-SHA256 decryption; the result never touches a Swift array.
    /// `label` is the OAEP label: rpfs wraps with the empty label; published test vectors use others.
    public func unwrap(_ wrapped: [UInt8], label: [UInt8] = []) throws(CryptoError) -> SecretBytes {
        let ctx = try oaepContext(encrypt: false)
        defer { EVP_PKEY_CTX_free(ctx) }
        if !label.isEmpty, rpfs_set_oaep_label(ctx, label, label.count) != 1 { throw CryptoError.library("RSA-OAEP label") }
        var lengthOut = 0
        var capacity = 0
        guard EVP_PKEY_decrypt(ctx, nil, &capacity, wrapped, wrapped.count) == 1 else {
            ERR_clear_error()
            throw .unwrapFailed
        }
        // Decrypt into a scratch secret of the maximum size, then keep only the real length.
        let scratch = try SecretBytes(count: capacity) { (out) throws(CryptoError) in
            var length = out.count
            guard EVP_PKEY_decrypt(ctx, out.baseAddress?.assumingMemoryBound(to: UInt8.self), &length, wrapped, wrapped.count) == 1 else {
                ERR_clear_error()
                throw .unwrapFailed
            }
            // Zero the unused tail so the prefix below is all that remains meaningful.
            if length < out.count { SecretBytes.wipe(UnsafeMutableRawBufferPointer(rebasing: out[length...])) }
            lengthOut = length
        }
        return scratch.withUnsafeBytes { SecretBytes(copying: UnsafeRawBufferPointer(rebasing: $0.prefix(lengthOut))) }
    }

    private func oaepContext(encrypt: Bool) throws(CryptoError) -> OpaquePointer {
        guard let ctx = EVP_PKEY_CTX_new_from_pkey(nil, pkey, nil) else { throw CryptoError.library("EVP_PKEY_CTX_new") }
        let ready = (encrypt ? EVP_PKEY_encrypt_init(ctx) : EVP_PKEY_decrypt_init(ctx)) == 1
            && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1
            && EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) == 1
            && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1
        guard ready else {
            EVP_PKEY_CTX_free(ctx)
            throw CryptoError.library("RSA-OAEP setup")
        }
        return ctx
    }
}
