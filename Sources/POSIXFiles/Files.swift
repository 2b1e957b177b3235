import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// Whole-file operations with errno-precise errors.
public enum Files {
    /// Reads a whole file, refusing files larger than `limit` before allocating.
    public static func read(_ path: String, limit: Int) throws(SystemError) -> [UInt8] {
        let (bytes, size) = try readPrefix(path, upTo: limit)
        guard size <= UInt64(limit) else { throw SystemError("read", path: path, errno: EFBIG) }
        return bytes
    }

    /// Reads at most `upTo` bytes from the start of a file; returns them and the file's size.
    public static func readPrefix(_ path: String, upTo: Int) throws(SystemError) -> (bytes: [UInt8], size: UInt64) {
        let file = try FileDescriptor(opening: path, flags: O_RDONLY)
        let size = try file.size()
        var bytes = [UInt8](repeating: 0, count: Int(min(size, UInt64(max(upTo, 0)))))
        let n = try bytes.withUnsafeMutableBytes { buffer in Result { () throws(SystemError) in try file.read(at: 0, into: buffer) } }.get()
        return (Array(bytes.prefix(n)), size)
    }

    /// Reads a file that must be `expected` bytes long into `buffer`, which starts on a page
    /// and spans whole pages (at least `expected` bytes); false when the size differs.
    ///
    /// `uncached` reads through O_DIRECT, unless the page cache already holds the whole file
    /// (then it costs a copy, not a disk read) or the filesystem refuses O_DIRECT (EINVAL):
    /// the bytes go from the disk into `buffer`, with no copy out of the page cache and no
    /// page-cache memory spent on them.
    public static func readWhole(_ path: String, expected: Int, into buffer: UnsafeMutableRawBufferPointer, uncached: Bool) throws(SystemError) -> Bool {
        let file = try FileDescriptor(opening: path, flags: O_RDONLY)
        guard try file.size() == UInt64(expected) else { return false }
        if uncached, !file.isCached(length: expected), file.bypassPageCache(true) {
            // One request for the whole file: a second one, after a short first, would start
            // at an unaligned offset. Any shortfall is read again the ordinary way below.
            do {
                if try file.readOnce(at: 0, into: buffer) == expected { return true }
            } catch where error.errno == EINVAL {}
            _ = file.bypassPageCache(false)
        }
        return try file.read(at: 0, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0 ..< expected])) == expected
    }

    public static func writeAtomically(_ path: String, bytes: [UInt8], mode: mode_t = 0o644, exclusive: Bool = false, durable: Bool = true) throws(SystemError) {
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(SystemError) in try writeAtomically(path, from: buffer, mode: mode, exclusive: exclusive, durable: durable) }
        }.get()
    }

    /// Writes to a temporary name beside `path`, then renames over `path`: a reader sees the
    /// old file or the complete new one, never a partial write. `exclusive` fails with EEXIST
    /// instead of replacing. `durable` syncs the file and its directory before returning.
    public static func writeAtomically(_ path: String, from buffer: UnsafeRawBufferPointer, mode: mode_t = 0o644, exclusive: Bool = false, durable: Bool = true) throws(SystemError) {
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        do {
            let file = try FileDescriptor(opening: temporary, flags: O_WRONLY | O_CREAT | O_EXCL, mode: mode)
            try file.write(at: 0, from: buffer)
            if durable { try file.sync() }
            if exclusive {
                // link() fails with EEXIST instead of replacing: the name is claimed once.
                try retryingOnInterrupt("link", path: path) { link(temporary, path) }
                unlink(temporary)
            } else {
                try retryingOnInterrupt("rename", path: path) { rename(temporary, path) }
            }
        } catch {
            unlink(temporary)
            throw error
        }
        if durable { try syncDirectory(containing: path) }
    }

    /// Flushes every dirty page of the filesystem holding `path`: one call for many files
    /// written without fsync.
    public static func syncFilesystem(containing path: String) throws(SystemError) {
        let file = try FileDescriptor(opening: path, flags: O_RDONLY)
        try retryingOnInterrupt("syncfs", path: path) { rpfs_syncfs(file.rawValue) }
    }

    /// Makes a rename or create in a directory durable.
    public static func syncDirectory(containing path: String) throws(SystemError) {
        let directory = parent(of: path)
        let file = try FileDescriptor(opening: directory, flags: O_RDONLY | O_DIRECTORY)
        try file.sync()
    }

    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let head = String(path[..<slash])
        return head.isEmpty ? "/" : head
    }

    /// Creates a directory (and its parents); an existing directory is fine.
    public static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws(SystemError) {
        var info = stat()
        if stat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else { throw SystemError("mkdir", path: path, errno: ENOTDIR) }
            return
        }
        let up = parent(of: path)
        if up != path, up != "/", up != "." { try makeDirectory(up, mode: mode) }
        if mkdir(path, mode) != 0, Glibc.errno != EEXIST { throw SystemError("mkdir", path: path, errno: Glibc.errno) }
    }

    /// Names in a directory, without "." and "..".
    public static func list(_ path: String) throws(SystemError) -> [String] {
        guard let dir = opendir(path) else { throw SystemError("opendir", path: path, errno: Glibc.errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    public static func remove(_ path: String) throws(SystemError) {
        if unlink(path) != 0 { throw SystemError("unlink", path: path, errno: Glibc.errno) }
    }
}
