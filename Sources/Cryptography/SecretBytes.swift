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
    public init(randomCount count: Int) throws(CryptoError) {
        storage = .allocate(byteCount: count, alignment: 16)
        guard count == 0 || RAND_bytes(storage.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(count)) == 1 else {
            storage.deallocate()
            throw CryptoError.library("RAND_bytes")
        }
    }

    /// Takes a copy of `bytes`. The caller is responsible for wiping its own copy.
    public init(copying bytes: UnsafeRawBufferPointer) {
        storage = .allocate(byteCount: bytes.count, alignment: 16)
        if bytes.count > 0 { storage.copyMemory(from: bytes) }
    }

    /// Fills a new secret by calling `body` with its storage; used by KDFs and unwrap.
    public init<E: Error>(count: Int, filling body: (UnsafeMutableRawBufferPointer) throws(E) -> Void) throws(E) {
        storage = .allocate(byteCount: count, alignment: 16)
        do {
            try body(storage)
        } catch {
            Self.wipe(storage)
            storage.deallocate()
            throw error
        }
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
