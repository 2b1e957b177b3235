import COpenSSL

/// HKDF-SHA256 (RFC 5869) and HMAC-SHA256, the two ways rpfs derives values from a DEK.
public enum KeyDerivation {
    /// Derives `count` bytes of key material from `secret`.
    public static func hkdfSHA256(secret: SecretBytes, salt: [UInt8], info: [UInt8], count: Int) throws(CryptoError) -> SecretBytes {
        _ = OpenSSLRuntime.ready
        return try SecretBytes(count: count) { (out) throws(CryptoError) in
            guard let ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nil) else { throw CryptoError.library("EVP_PKEY_CTX_new_id(HKDF)") }
            defer { EVP_PKEY_CTX_free(ctx) }
            let configured = secret.withUnsafeBytes { key in
                EVP_PKEY_derive_init(ctx) == 1
                    && EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) == 1
                    && EVP_PKEY_CTX_set1_hkdf_key(ctx, key.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(key.count)) == 1
                    && (salt.isEmpty || EVP_PKEY_CTX_set1_hkdf_salt(ctx, salt, Int32(salt.count)) == 1)
                    && (info.isEmpty || EVP_PKEY_CTX_add1_hkdf_info(ctx, info, Int32(info.count)) == 1)
            }
            guard configured else { throw CryptoError.library("HKDF setup") }
            var length = out.count
            guard EVP_PKEY_derive(ctx, out.baseAddress?.assumingMemoryBound(to: UInt8.self), &length) == 1, length == out.count else {
                throw CryptoError.library("HKDF derive")
            }
        }
    }

    /// HMAC-SHA256 of `message` under `key`.
    public static func hmacSHA256(key: SecretBytes, message: UnsafeRawBufferPointer) throws(CryptoError) -> [UInt8] {
        _ = OpenSSLRuntime.ready
        var mac = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { keyBytes in
            HMAC(EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count),
                 message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count, &mac, &length)
        }
        guard result != nil, length == 32 else { throw CryptoError.library("HMAC-SHA256") }
        return mac
    }
}
