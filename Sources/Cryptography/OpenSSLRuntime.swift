import COpenSSL

/// OpenSSL set up for a multi-threaded process. By default OpenSSL registers an atexit
/// handler that frees its locks and tables while read-ahead threads may still be decrypting:
/// a crash at exit (seen in `rpfs inspect`). Initialising with OPENSSL_INIT_NO_ATEXIT first
/// means exit just ends the process. Every entry point of this module touches `ready` before
/// its first OpenSSL call.
enum OpenSSLRuntime {
    static let ready: Bool = OPENSSL_init_crypto(UInt64(OPENSSL_INIT_NO_ATEXIT), nil) == 1
}
