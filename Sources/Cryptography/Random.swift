import COpenSSL

public enum Random {
    /// Cryptographically secure random bytes (nonces, salts, ids; not keys: see `SecretBytes`).
    public static func bytes(_ count: Int) throws(CryptoError) -> [UInt8] {
        _ = OpenSSLRuntime.ready
        var out = [UInt8](repeating: 0, count: count)
        guard count == 0 || RAND_bytes(&out, Int32(count)) == 1 else { throw CryptoError.library("RAND_bytes") }
        return out
    }
}
