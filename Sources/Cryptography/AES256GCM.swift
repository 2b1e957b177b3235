import COpenSSL

/// AES-256-GCM with 96-bit nonces and 128-bit tags, over OpenSSL EVP.
///
/// Works on raw buffers so the chunk path can decrypt in place without copies; input and
/// output may be the same memory.
public enum AES256GCM {
    public static let keySize = 32
    public static let nonceSize = 12
    public static let tagSize = 16

    // Fetched once: an implicit fetch on every init costs a lookup per chunk.
    nonisolated(unsafe) private static let cipher: OpaquePointer? = OpenSSLRuntime.ready ? EVP_CIPHER_fetch(nil, "AES-256-GCM", nil) : nil

    /// Encrypts `plaintext` into `output` (same length) and returns the tag.
    public static func seal(
        key: SecretBytes, nonce: [UInt8], aad: [UInt8],
        plaintext: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) -> [UInt8] {
        var tag = [UInt8](repeating: 0, count: tagSize)
        try run(encrypt: true, key: key, nonce: nonce, aad: aad, input: plaintext, output: output, tag: &tag)
        return tag
    }

    /// Decrypts `ciphertext` into `output` (same length) after verifying `tag`.
    /// On failure the output is zeroed: unauthenticated plaintext never leaves this function.
    public static func open(
        key: SecretBytes, nonce: [UInt8], aad: [UInt8],
        ciphertext: UnsafeRawBufferPointer, tag: [UInt8], into output: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) {
        var tagCopy = tag
        do {
            try run(encrypt: false, key: key, nonce: nonce, aad: aad, input: ciphertext, output: output, tag: &tagCopy)
        } catch {
            output.initializeMemory(as: UInt8.self, repeating: 0)
            throw error
        }
    }

    /// Array convenience for small messages (metadata, tests).
    public static func seal(key: SecretBytes, nonce: [UInt8], aad: [UInt8], plaintext: [UInt8]) throws(CryptoError) -> (ciphertext: [UInt8], tag: [UInt8]) {
        var out = [UInt8](repeating: 0, count: plaintext.count)
        let tag = plaintext.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { output in
                Result { () throws(CryptoError) in try seal(key: key, nonce: nonce, aad: aad, plaintext: input, into: output) }
            }
        }
        return (out, try tag.get())
    }

    public static func open(key: SecretBytes, nonce: [UInt8], aad: [UInt8], ciphertext: [UInt8], tag: [UInt8]) throws(CryptoError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: ciphertext.count)
        let opened = ciphertext.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { output in
                Result { () throws(CryptoError) in try open(key: key, nonce: nonce, aad: aad, ciphertext: input, tag: tag, into: output) }
            }
        }
        try opened.get()
        return out
    }

    private static func run(
        encrypt: Bool, key: SecretBytes, nonce: [UInt8], aad: [UInt8],
        input: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer, tag: inout [UInt8]
    ) throws(CryptoError) {
        guard key.count == keySize else { throw .invalidArgument("AES-256 key must be 32 bytes, got \(key.count)") }
        guard nonce.count == nonceSize else { throw .invalidArgument("GCM nonce must be 12 bytes, got \(nonce.count)") }
        guard output.count == input.count else { throw .invalidArgument("output length differs from input length") }
        guard let cipher, let ctx = EVP_CIPHER_CTX_new() else { throw CryptoError.library("EVP_CIPHER_CTX_new") }
        defer { EVP_CIPHER_CTX_free(ctx) }

        let enc: Int32 = encrypt ? 1 : 0
        let initialised = key.withUnsafeBytes { keyBytes in
            EVP_CipherInit_ex2(ctx, cipher, keyBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), nonce, enc, nil)
        }
        guard initialised == 1 else { throw CryptoError.library("EVP_CipherInit_ex2") }

        var produced: Int32 = 0
        if !aad.isEmpty {
            guard EVP_CipherUpdate(ctx, nil, &produced, aad, Int32(aad.count)) == 1 else { throw CryptoError.library("GCM AAD") }
        }
        // EVP takes int lengths; feed large buffers in pieces that fit.
        let step = 1 << 30
        var done = 0
        while done < input.count {
            let n = min(step, input.count - done)
            guard let inBase = input.baseAddress, let outBase = output.baseAddress,
                  EVP_CipherUpdate(ctx, (outBase + done).assumingMemoryBound(to: UInt8.self), &produced,
                                   (inBase + done).assumingMemoryBound(to: UInt8.self), Int32(n)) == 1
            else { throw CryptoError.library("GCM update") }
            done += n
        }
        if encrypt {
            guard EVP_CipherFinal_ex(ctx, nil, &produced) == 1,
                  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, Int32(tagSize), &tag) == 1
            else { throw CryptoError.library("GCM final") }
        } else {
            guard tag.count == tagSize else { throw .authenticationFailed }
            guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, Int32(tagSize), &tag) == 1 else { throw CryptoError.library("GCM set tag") }
            var scratch = [UInt8](repeating: 0, count: 16)
            guard EVP_CipherFinal_ex(ctx, &scratch, &produced) == 1 else {
                ERR_clear_error()
                throw .authenticationFailed
            }
        }
    }
}
