import POSIXFiles

/// A catalog object's bytes: a read-only mapping of a file (a directory store's object, a
/// cached copy, what the writer wrote), or bytes fetched into memory. Mapped, a catalog of
/// millions of files costs page cache, which the kernel can drop, rather than resident memory.
public final class CatalogBytes: Sendable {
    private enum Storage: Sendable {
        case mapped(MappedFile)
        case memory([UInt8])
    }

    private let storage: Storage

    public init(_ mapping: MappedFile) {
        storage = .mapped(mapping)
    }

    public init(_ bytes: [UInt8]) {
        storage = .memory(bytes)
    }

    public var count: Int {
        switch storage {
        case let .mapped(file): file.bytes.count
        case let .memory(bytes): bytes.count
        }
    }

    public func withBytes<T, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> T) throws(E) -> T {
        switch storage {
        case let .mapped(file):
            return try body(file.bytes)
        case let .memory(bytes):
            return try bytes.withUnsafeBytes { buffer in Result { () throws(E) in try body(buffer) } }.get()
        }
    }

    /// A copy of `count` bytes from `offset`; nil when they are not all inside.
    func copy(from offset: Int, count: Int) -> [UInt8]? {
        guard offset >= 0, count >= 0, offset <= self.count, count <= self.count - offset else { return nil }
        return withBytes { Array(UnsafeRawBufferPointer(rebasing: $0[offset ..< offset + count])) }
    }
}
