import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// An open directory, and every operation rpfs performs inside it relative to its descriptor
/// (the *at system calls with O_NOFOLLOW): names can never climb out of it, and a symlink
/// planted in a destination is never followed, whatever the name.
///
/// Names are raw bytes (Linux names need not be UTF-8) and must already be single validated
/// components (no '/', not '.' or '..'); `link` alone takes a relative path of such names.
public final class DirectoryHandle: @unchecked Sendable {
    public let descriptor: Int32
    /// Shown in errors.
    public let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit { close(descriptor) }

    /// Opens an existing directory named by the user (symlinks in it are theirs to use).
    public static func open(_ path: String) throws(SystemError) -> DirectoryHandle {
        let fd = try retryingOnInterrupt("open", path: path) { Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        return DirectoryHandle(descriptor: fd, path: path)
    }

    private func child(_ name: [UInt8]) -> String { "\(path)/\(String(decoding: name, as: UTF8.self))" }

    /// A C string of exactly these bytes.
    private static func cString(_ bytes: [UInt8]) -> [CChar] { bytes.map { CChar(bitPattern: $0) } + [0] }

    /// Creates a subdirectory (mode 0700 until its own mode is applied) and opens it.
    public func makeDirectory(_ name: [UInt8]) throws(SystemError) -> DirectoryHandle {
        try retryingOnInterrupt("mkdir", path: child(name)) { mkdirat(descriptor, Self.cString(name), 0o700) }
        return try openDirectory(name)
    }

    public func openDirectory(_ name: [UInt8]) throws(SystemError) -> DirectoryHandle {
        let fd = try retryingOnInterrupt("open", path: child(name)) {
            openat(descriptor, Self.cString(name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        }
        return DirectoryHandle(descriptor: fd, path: child(name))
    }

    /// Creates a new regular file (it must not exist), readable and writable by us only.
    public func createFile(_ name: [UInt8]) throws(SystemError) -> FileDescriptor {
        let fd = try retryingOnInterrupt("create", path: child(name)) {
            openat(descriptor, Self.cString(name), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        }
        return FileDescriptor(adopting: fd, path: child(name))
    }

    /// Opens an existing regular file for reading, never through a symlink.
    public func openFile(_ name: [UInt8]) throws(SystemError) -> FileDescriptor {
        let fd = try retryingOnInterrupt("open", path: child(name)) {
            openat(descriptor, Self.cString(name), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        }
        return FileDescriptor(adopting: fd, path: child(name))
    }

    /// Opens (creating it if needed) a file that is only ever appended to, never through a symlink.
    public func appendFile(_ name: [UInt8]) throws(SystemError) -> FileDescriptor {
        let fd = try retryingOnInterrupt("open", path: child(name)) {
            openat(descriptor, Self.cString(name), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        }
        return FileDescriptor(adopting: fd, path: child(name))
    }

    /// The names in this directory, without "." and "..", as bytes.
    public func names() throws(SystemError) -> [[UInt8]] {
        // fdopendir takes ownership of the descriptor it gets: give it a duplicate.
        let duplicate = try retryingOnInterrupt("dup", path: path) { fcntl(descriptor, F_DUPFD_CLOEXEC, 0) }
        guard let stream = fdopendir(duplicate) else {
            let code = Glibc.errno
            close(duplicate)
            throw SystemError("opendir", path: path, errno: code)
        }
        defer { closedir(stream) }
        var names: [[UInt8]] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if name != [0x2E], name != [0x2E, 0x2E] { names.append(name) }
        }
        return names
    }

    /// What is at `name` (a symlink itself, not its target); nil when nothing is.
    public func status(_ name: [UInt8]) throws(SystemError) -> stat? {
        var info = stat()
        let result = fstatat(descriptor, Self.cString(name), &info, AT_SYMLINK_NOFOLLOW)
        if result == 0 { return info }
        if Glibc.errno == ENOENT { return nil }
        throw SystemError("stat", path: child(name), errno: Glibc.errno)
    }

    public func makeSymlink(_ name: [UInt8], target: [UInt8]) throws(SystemError) {
        try retryingOnInterrupt("symlink", path: child(name)) { symlinkat(Self.cString(target), descriptor, Self.cString(name)) }
    }

    public func makeNode(_ name: [UInt8], mode: mode_t, device: dev_t) throws(SystemError) {
        try retryingOnInterrupt("mknod", path: child(name)) { mknodat(descriptor, Self.cString(name), mode, device) }
    }

    /// A second name for the file at `existing` (relative to `root`), as `name` here.
    public func link(_ name: [UInt8], to existing: [UInt8], in root: DirectoryHandle) throws(SystemError) {
        try retryingOnInterrupt("link", path: child(name)) { linkat(root.descriptor, Self.cString(existing), descriptor, Self.cString(name), 0) }
    }

    /// Moves `from` to `to` in this directory. Without `replace`, an existing `to` is an
    /// EEXIST error (renameat2 with RENAME_NOREPLACE: no window in which it could be replaced).
    public func rename(_ from: [UInt8], to: [UInt8], replace: Bool) throws(SystemError) {
        let source = Self.cString(from)
        let target = Self.cString(to)
        try retryingOnInterrupt("rename", path: child(to)) {
            replace ? renameat(descriptor, source, descriptor, target) : rpfs_rename_noreplace(descriptor, source, target)
        }
    }

    public func remove(_ name: [UInt8]) throws(SystemError) {
        try retryingOnInterrupt("unlink", path: child(name)) { unlinkat(descriptor, Self.cString(name), 0) }
    }

    /// Owner, times and mode of `name` itself (never a symlink's target). Mode is not applied
    /// to symlinks: Linux has no mode for them.
    public func setOwner(_ name: [UInt8], uid: uid_t, gid: gid_t) throws(SystemError) {
        try retryingOnInterrupt("chown", path: child(name)) { fchownat(descriptor, Self.cString(name), uid, gid, AT_SYMLINK_NOFOLLOW) }
    }

    public func setMode(_ name: [UInt8], _ mode: mode_t) throws(SystemError) {
        try retryingOnInterrupt("chmod", path: child(name)) { fchmodat(descriptor, Self.cString(name), mode, 0) }
    }

    public func setTimes(_ name: [UInt8], accessed: timespec, modified: timespec) throws(SystemError) {
        let times = [accessed, modified]
        try retryingOnInterrupt("utimensat", path: child(name)) { utimensat(descriptor, Self.cString(name), times, AT_SYMLINK_NOFOLLOW) }
    }

    /// Sets an extended attribute on `name` itself, through /proc/self/fd so that the lookup
    /// stays relative to this descriptor (there is no setxattrat).
    public func setExtendedAttribute(_ name: [UInt8], key: String, value: [UInt8]) throws(SystemError) {
        let target = Self.cString(Array("/proc/self/fd/\(descriptor)/".utf8) + name)
        try retryingOnInterrupt("setxattr \(key)", path: child(name)) { lsetxattr(target, key, value, value.count, 0) }
    }
}
