#if canImport(Glibc)
import Glibc
#endif

/// wimlib's XPRESS (Huffman) and LZX decompressors (Debian's libwim15), the formats of
/// WOF-compressed files. Loaded with dlopen the first time such a file is read, so that no
/// other command loads the library; nil when it is not installed.
struct Wimlib: @unchecked Sendable {
    // @unchecked: function addresses, fixed once loaded.
    typealias Create = @convention(c) (Int32, Int, UnsafeMutablePointer<OpaquePointer?>) -> Int32
    typealias Decompress = @convention(c) (UnsafeRawPointer, Int, UnsafeMutableRawPointer, Int, OpaquePointer) -> Int32
    typealias Free = @convention(c) (OpaquePointer?) -> Void

    /// wimlib_compression_type.
    enum Format: Int32 {
        case xpress = 1
        case lzx = 2
    }

    let create: Create
    let decompress: Decompress
    let free: Free

    static let library = "libwim.so.15"
    static let shared: Wimlib? = load()

    private static func load() -> Wimlib? {
        guard let handle = dlopen(library, RTLD_NOW | RTLD_LOCAL),
              let create = dlsym(handle, "wimlib_create_decompressor"),
              let decompress = dlsym(handle, "wimlib_decompress"),
              let free = dlsym(handle, "wimlib_free_decompressor") else { return nil }
        return Wimlib(create: unsafeBitCast(create, to: Create.self), decompress: unsafeBitCast(decompress, to: Decompress.self),
                      free: unsafeBitCast(free, to: Free.self))
    }

    /// A decompressor for blocks of up to `blockSize` bytes, used by one thread at a time.
    final class Decompressor {
        private let library: Wimlib
        private let handle: OpaquePointer

        init?(_ library: Wimlib, _ format: Format, blockSize: Int) {
            var handle: OpaquePointer?
            guard library.create(format.rawValue, blockSize, &handle) == 0, let handle else { return nil }
            self.library = library
            self.handle = handle
        }

        deinit { library.free(handle) }

        /// Decompresses `compressed` into exactly `size` bytes; nil when the data is invalid.
        func decompress(_ compressed: [UInt8], size: Int) -> [UInt8]? {
            var output = [UInt8](repeating: 0, count: size)
            let status = compressed.withUnsafeBytes { input in
                output.withUnsafeMutableBytes { out in
                    guard let source = input.baseAddress, let target = out.baseAddress else { return Int32(-1) }
                    return library.decompress(source, input.count, target, out.count, handle)
                }
            }
            return status == 0 ? output : nil
        }
    }
}
