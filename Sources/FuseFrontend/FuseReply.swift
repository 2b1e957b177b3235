#if canImport(Glibc)
import Glibc
#endif
import PointNamespace

/// What a handler answers a request with. Handlers decide; `FuseAdapter` alone turns a
/// reply into the libfuse call, so everything here can be checked without a mount.
/// `stat` and `statvfs` are spelled `Glibc.`: libfuse's header brings them too, and an
/// unqualified name can resolve to that copy, whose members files without CFuse3 cannot see.
enum FuseReply {
    /// lookup: a node and its attributes, for the kernel to cache.
    case entry(FuseEntry)
    /// getattr.
    case attributes(Glibc.stat, timeout: Double)
    /// read: bytes at the start of a reply buffer, which goes back to the pool after the reply.
    case data(ReadReply)
    /// readdir and readdirplus.
    case directoryPage(DirectoryPage)
    /// readlink: the target as stored.
    case symlinkTarget([UInt8])
    /// getxattr or listxattr asked with size 0: how many bytes the answer needs.
    case xattrSize(Int)
    /// getxattr's value, or listxattr's names, each followed by a NUL.
    case xattrBytes([UInt8])
    case statfs(Glibc.statvfs)
    /// lseek: the offset SEEK_DATA or SEEK_HOLE found.
    case offset(off_t)
    /// open and opendir: the directory handle, if any, and whether the page cache survives the open.
    case open(handle: UInt64?, keepCache: Bool)
    /// An errno; 0 answers success with nothing to say (release, releasedir).
    case error(Int32)
}

/// A node as lookup and readdirplus hand it to the kernel. Node 0 means "no entry": the
/// kernel caches nothing for the name.
struct FuseEntry {
    var node: UInt64
    var attributes: Glibc.stat
    /// Seconds the kernel may keep the name and the attributes.
    var timeout: Double
}

/// A read's answer: `count` bytes at the start of `buffer` (from `ReplyBuffers`, sent as
/// they are, never copied), and the page-cache window to fill once they are sent.
struct ReadReply {
    let buffer: UnsafeMutableRawBufferPointer
    let count: Int
    let window: WindowFill?
}

/// A window of one file to store in the kernel's page cache.
struct WindowFill {
    /// The inode number the kernel knows the file by.
    let number: UInt64
    let node: PointNamespace.Node
    let path: String
    let range: Range<UInt64>
}
