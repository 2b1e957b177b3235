import COpenSSL

/// Key material that is zeroed when the last reference goes away.
///
/// Keys never live in Swift arrays (which copy freely and are never wiped); they live here,
/// in one allocation from OpenSSL's secure heap (locked in RAM, never dumped: see
/// `OpenSSLRuntime`) that `deinit` cleanses and frees.
public final class SecretBytes: @unchecked Sendable {
    // Immutable after init, so sharing across threads is safe.
    private let storage: UnsafeMutableRawBufferPointer

    public var count: Int { storage.count }

    /// Fresh random secret of `count` bytes.
    public convenience init(randomCount count: Int) throws(CryptoError) {
        try self.init(count: count) { (buffer) throws(CryptoError) in
            guard count == 0 || RAND_bytes(buffer.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(count)) == 1 else {
                throw CryptoError.library("RAND_bytes")
            }
        }
    }

    /// Takes a copy of `bytes`. The caller is responsible for wiping its own copy.
    public init(copying bytes: UnsafeRawBufferPointer) {
        storage = Self.allocate(bytes.count)
        if bytes.count > 0 { storage.copyMemory(from: bytes) }
    }

    /// Fills a new secret by calling `body` with its storage; used by KDFs and unwrap.
    /// `storage` is assigned only after `body` succeeds: a throwing init must not leave a
    /// fully initialised object, or deinit would free the buffer a second time.
    public init<E: Error>(count: Int, filling body: (UnsafeMutableRawBufferPointer) throws(E) -> Void) throws(E) {
        let buffer = Self.allocate(count)
        do {
            try body(buffer)
        } catch {
            Self.release(buffer)
            throw error
        }
        storage = buffer
    }

    deinit {
        Self.release(storage)
    }

    /// Whether this secret is in the locked arena (false when mlock was refused, or the arena
    /// was full and the ordinary heap took it).
    public var isLockedInMemory: Bool {
        OpenSSLRuntime.secureHeapLocked && CRYPTO_secure_allocated(storage.baseAddress) == 1
    }

    /// Zeroed memory from the secure heap; at least one byte, so every secret has an address
    /// of its own.
    private static func allocate(_ count: Int) -> UnsafeMutableRawBufferPointer {
        _ = OpenSSLRuntime.ready
        // Falls back to the ordinary heap when the arena is full; nil means memory is exhausted,
        // where Swift's own allocation would trap too.
        guard let base = CRYPTO_secure_zalloc(max(count, 1), nil, 0) else { fatalError("out of memory for key material") }
        return UnsafeMutableRawBufferPointer(start: base, count: count)
    }

    /// Cleanses and frees (OpenSSL knows whether the block is in the arena).
    private static func release(_ buffer: UnsafeMutableRawBufferPointer) {
        CRYPTO_secure_clear_free(buffer.baseAddress, max(buffer.count, 1), nil, 0)
    }

    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(storage))
    }

    /// Overwrites memory that held secret material (OPENSSL_cleanse is not optimised away).
    public static func wipe(_ buffer: UnsafeMutableRawBufferPointer) {
        if let base = buffer.baseAddress, buffer.count > 0 { OPENSSL_cleanse(base, buffer.count) }
    }
}
