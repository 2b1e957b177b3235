import COpenSSL

/// Key material that is zeroed when the last reference goes away.
///
/// Keys never live in Swift arrays (which copy freely and are never wiped); they live here,
/// in one allocation that `deinit` cleanses with `OPENSSL_cleanse`.
public final class SecretBytes: @unchecked Sendable {
    // Immutable after init, so sharing across threads is safe.
    private let storage: UnsafeMutableRawBufferPointer

    public var count: Int { storage.count }

    /// Fresh random secret of `count` bytes.
    public convenience init(randomCount count: Int) throws(CryptoError) {
        _ = OpenSSLRuntime.ready
        try self.init(count: count) { (buffer) throws(CryptoError) in
            guard count == 0 || RAND_bytes(buffer.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(count)) == 1 else {
                throw CryptoError.library("RAND_bytes")
            }
        }
    }

    /// Takes a copy of `bytes`. The caller is responsible for wiping its own copy.
    public init(copying bytes: UnsafeRawBufferPointer) {
        storage = .allocate(byteCount: bytes.count, alignment: 16)
        if bytes.count > 0 { storage.copyMemory(from: bytes) }
    }

    /// Fills a new secret by calling `body` with its storage; used by KDFs and unwrap.
    /// `storage` is assigned only after `body` succeeds: a throwing init must not leave a
    /// fully initialised object, or deinit would free the buffer a second time.
    public init<E: Error>(count: Int, filling body: (UnsafeMutableRawBufferPointer) throws(E) -> Void) throws(E) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
        do {
            try body(buffer)
        } catch {
            Self.wipe(buffer)
            buffer.deallocate()
            throw error
        }
        storage = buffer
    }

    deinit {
        Self.wipe(storage)
        storage.deallocate()
    }

    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(storage))
    }

    /// Overwrites memory that held secret material (OPENSSL_cleanse is not optimised away).
    public static func wipe(_ buffer: UnsafeMutableRawBufferPointer) {
        if let base = buffer.baseAddress, buffer.count > 0 { OPENSSL_cleanse(base, buffer.count) }
    }
}
