import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// A file's bytes mapped read-only: large objects (a catalog) are read through the page
/// cache, which can drop and reread their pages, instead of being copied into memory that
/// must stay resident. The mapping is private and read-only: nothing writes through it.
public final class MappedFile: @unchecked Sendable {
    public let bytes: UnsafeRawBufferPointer

    /// Maps the whole of `file` as it is now.
    public init(_ file: FileDescriptor) throws(SystemError) {
        let size = try file.size()
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard size <= UInt64(Int.max), let base = mmap(nil, Int(size), PROT_READ, MAP_PRIVATE, file.rawValue, 0), base != MAP_FAILED else {
            throw SystemError("mmap", path: file.path, errno: size > UInt64(Int.max) ? EFBIG : Glibc.errno)
        }
        bytes = UnsafeRawBufferPointer(start: base, count: Int(size))
    }

    public convenience init(path: String) throws(SystemError) {
        try self.init(try FileDescriptor(opening: path, flags: O_RDONLY))
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}

extension FileDescriptor {
    /// A new file with no name in `directory` (O_TMPFILE): it disappears when closed, so a
    /// crash leaves nothing behind.
    public static func anonymous(in directory: String) throws(SystemError) -> FileDescriptor {
        try FileDescriptor(opening: directory, flags: rpfs_open_tmpfile_flag() | O_RDWR, mode: 0o600)
    }
}
