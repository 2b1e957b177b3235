import COpenSSL

/// OpenSSL set up for a multi-threaded process that holds keys. Every entry point of this
/// module touches `ready` before its first OpenSSL call, and `SecretBytes` before it allocates.
///
/// - By default OpenSSL registers an atexit handler that frees its locks and tables while
///   read-ahead threads may still be decrypting: a crash at exit (seen in `rpfs inspect`).
///   Initialising with OPENSSL_INIT_NO_ATEXIT first means exit just ends the process.
/// - The secure heap: one arena that OpenSSL maps with guard pages, locks in RAM (`mlock`) and
///   excludes from core dumps. `SecretBytes` live there, and so do the private numbers of
///   every RSA key OpenSSL decodes (its CBIGNUM fields), so keys never reach swap.
enum OpenSSLRuntime {
    static var ready: Bool { setUp.initialised }

    /// False when the arena could not be locked (RLIMIT_MEMLOCK too low for an unprivileged
    /// user) or not be made at all: keys then live in ordinary memory.
    static var secureHeapLocked: Bool { setUp.locked }

    /// Room for thousands of 32-byte keys and a few RSA private keys; when it is full,
    /// allocations fall back to the ordinary heap (still wiped, not locked).
    static let secureHeapSize = 256 << 10
    static let secureHeapMinimum = 32

    private static let setUp: (initialised: Bool, locked: Bool) = {
        let initialised = OPENSSL_init_crypto(UInt64(OPENSSL_INIT_NO_ATEXIT), nil) == 1
        // 1: mapped, guarded and locked; 2: made, but mlock or the guard pages failed.
        return (initialised, CRYPTO_secure_malloc_init(secureHeapSize, secureHeapMinimum) == 1)
    }()
}
