import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// An open file descriptor, closed in `deinit`. `pread`/`pwrite` keep it safe to share
/// between threads: no call moves a shared file offset.
public final class FileDescriptor: @unchecked Sendable {
    public let rawValue: Int32
    public let path: String

    public init(opening path: String, flags: Int32, mode: mode_t = 0) throws(SystemError) {
        self.path = path
        rawValue = try retryingOnInterrupt("open", path: path) { open(path, flags | O_CLOEXEC, mode) }
    }

    /// Takes ownership of a descriptor opened elsewhere (openat).
    init(adopting descriptor: Int32, path: String) {
        rawValue = descriptor
        self.path = path
    }

    deinit { close(rawValue) }

    /// A descriptor of its own (dup) for what `descriptor` refers to, such as standard
    /// output: closing this one leaves the original open.
    public convenience init(duplicating descriptor: Int32, path: String) throws(SystemError) {
        let copy = try retryingOnInterrupt("dup", path: path) { fcntl(descriptor, F_DUPFD_CLOEXEC, 0) }
        self.init(adopting: copy, path: path)
    }

    /// Sets the file's length; extending it leaves a hole.
    public func truncate(to length: UInt64) throws(SystemError) {
        try retryingOnInterrupt("ftruncate", path: path) { ftruncate(rawValue, off_t(length)) }
    }

    public func size() throws(SystemError) -> UInt64 {
        var info = stat()
        try retryingOnInterrupt("stat", path: path) { fstat(rawValue, &info) }
        if (info.st_mode & S_IFMT) == S_IFBLK {
            // Block devices report size 0 in st_size; ask the end of the device instead.
            let end = lseek(rawValue, 0, SEEK_END)
            if end < 0 { throw SystemError("lseek", path: path, errno: Glibc.errno) }
            return UInt64(end)
        }
        return UInt64(info.st_size)
    }

    /// Reads exactly `buffer.count` bytes at `offset`, or fewer only at end of file.
    /// Returns the number of bytes read.
    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
        var done = 0
        while done < buffer.count {
            guard let base = buffer.baseAddress else { break }
            let n = try retryingOnInterrupt("read", path: path) {
                pread(rawValue, base + done, buffer.count - done, off_t(offset) + off_t(done))
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Whether the page cache holds every page of the file's first `length` bytes: mincore
    /// over a mapping that is never touched, so nothing is read or faulted in.
    public func isCached(length: Int) -> Bool {
        guard length > 0, let mapping = mmap(nil, length, PROT_READ, MAP_SHARED, rawValue, 0), mapping != MAP_FAILED else { return false }
        defer { munmap(mapping, length) }
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        var resident = [UInt8](repeating: 0, count: (length + pageSize - 1) / pageSize)
        guard mincore(mapping, length, &resident) == 0 else { return false }
        return resident.allSatisfy { $0 & 1 != 0 }
    }

    /// Turns O_DIRECT on or off; false when the filesystem does not take it (EINVAL).
    public func bypassPageCache(_ bypass: Bool) -> Bool {
        let flags = fcntl(rawValue, F_GETFL)
        guard flags >= 0 else { return false }
        let direct = rpfs_open_direct_flag()
        return fcntl(rawValue, F_SETFL, bypass ? flags | direct : flags & ~direct) == 0
    }

    /// One read at `offset`: what it returns may be short of `buffer.count` anywhere.
    public func readOnce(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        return try retryingOnInterrupt("read", path: path) { pread(rawValue, base, buffer.count, off_t(offset)) }
    }

    /// The first offset at or after `offset` that may hold data; nil when only a hole
    /// follows. Lets a reader skip the holes of a sparse image without reading them.
    /// Files and filesystems without hole support report data everywhere.
    public func nextData(from offset: UInt64) -> UInt64? {
        let found = rpfs_seek_data(rawValue, off_t(offset))
        if found >= 0 { return UInt64(found) }
        return Glibc.errno == ENXIO ? nil : offset
    }

    public func write(at offset: UInt64, from buffer: UnsafeRawBufferPointer) throws(SystemError) {
        var done = 0
        while done < buffer.count {
            guard let base = buffer.baseAddress else { break }
            let n = try retryingOnInterrupt("write", path: path) {
                pwrite(rawValue, base + done, buffer.count - done, off_t(offset) + off_t(done))
            }
            done += n
        }
    }

    /// Writes all of `buffer` at the descriptor's own offset: for pipes and sockets, which
    /// have none to `pwrite` at, and for files written from start to end.
    public func write(_ buffer: UnsafeRawBufferPointer) throws(SystemError) {
        var done = 0
        while done < buffer.count {
            guard let base = buffer.baseAddress else { break }
            done += try retryingOnInterrupt("write", path: path) { Glibc.write(rawValue, base + done, buffer.count - done) }
        }
    }

    /// Moves the descriptor's own offset `count` bytes on: what a file written from start to
    /// end leaves as a hole there (give it its length with `truncate` if it ends in one).
    public func skip(_ count: UInt64) throws(SystemError) {
        guard let distance = off_t(exactly: count) else { throw SystemError("lseek", path: path, errno: EOVERFLOW) }
        try retryingOnInterrupt("lseek", path: path) { lseek(rawValue, distance, SEEK_CUR) }
    }

    /// Owner, mode, times and extended attributes of the open file: no name lookups, and no
    /// name that could have been swapped since the file was opened.
    public func setOwner(uid: uid_t, gid: gid_t) throws(SystemError) {
        try retryingOnInterrupt("chown", path: path) { fchown(rawValue, uid, gid) }
    }

    public func setMode(_ mode: mode_t) throws(SystemError) {
        try retryingOnInterrupt("chmod", path: path) { fchmod(rawValue, mode) }
    }

    public func setTimes(accessed: timespec, modified: timespec) throws(SystemError) {
        let times = [accessed, modified]
        try retryingOnInterrupt("futimens", path: path) { futimens(rawValue, times) }
    }

    public func setExtendedAttribute(key: String, value: [UInt8]) throws(SystemError) {
        try retryingOnInterrupt("setxattr \(key)", path: path) { fsetxattr(rawValue, key, value, value.count, 0) }
    }

    /// Appends `bytes` with one write call (O_APPEND files: records never interleave).
    public func append(_ bytes: [UInt8]) throws(SystemError) {
        let written = try retryingOnInterrupt("write", path: path) {
            bytes.withUnsafeBytes { raw in Glibc.write(rawValue, raw.baseAddress, raw.count) }
        }
        guard written == bytes.count else { throw SystemError("write", path: path, errno: EIO) }
    }

    /// Writes the file's data to the device and drops it from the page cache, so the next
    /// read comes from the disk rather than from memory (restore --verify).
    public func syncAndEvict() throws(SystemError) {
        try retryingOnInterrupt("fdatasync", path: path) { fdatasync(rawValue) }
        _ = posix_fadvise(rawValue, 0, 0, POSIX_FADV_DONTNEED)
    }

    public func sync() throws(SystemError) {
        try retryingOnInterrupt("fsync", path: path) { fsync(rawValue) }
    }
}
