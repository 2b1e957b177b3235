#if canImport(Glibc)
import Glibc
#endif
import PointNamespace
import Synchronization
import VolumeModel

/// The filesystem behind the FUSE session: each low-level operation, answered from the
/// point's tree as a `FuseReply`. Stateless but for open directory listings and the names
/// learned by lookup (to name files in error logs). Called on libfuse's worker threads,
/// concurrently; it never talks to libfuse itself.
final class PointFilesystem: Sendable {
    /// The tree never changes: the kernel may cache entries and attributes for a day.
    static let cacheTimeout: Double = 86_400

    let namespace: PointNamespace
    let directories = Mutex<(next: UInt64, open: [UInt64: [PointNamespace.Entry]])>((1, [:]))
    private let names = Mutex<[UInt64: String]>([1: "/"])
    /// Seconds since boot of the last request, for --idle-timeout.
    let lastAccess = Atomic<Int64>(0)
    private let log: @Sendable (String) -> Void
    let replyBuffers = ReplyBuffers()
    /// The page-cache window a small read fills: the point's largest chunk.
    let windowSize: UInt64
    /// Windows being filled, by inode number and start.
    let filling = Mutex<Set<[UInt64]>>([])

    init(namespace: PointNamespace, log: @escaping @Sendable (String) -> Void) {
        self.namespace = namespace
        self.log = log
        let chunkSize = namespace.largestChunkSize
        windowSize = UInt64(chunkSize > 0 ? chunkSize : PageCacheWindow.largestSmallRead)
        touch()
    }

    func touch() {
        lastAccess.store(Self.now(), ordering: .relaxed)
    }

    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec)
    }

    // MARK: Helpers

    func path(_ number: UInt64) -> String {
        names.withLock { $0[number] } ?? "inode \(number)"
    }

    func remember(_ number: UInt64, _ path: String) {
        names.withLock { names in
            // Bounded: past a million names, start over (they only serve error messages).
            if names.count > 1_000_000 { names.removeAll(keepingCapacity: true) }
            names[number] = path
        }
    }

    /// The reply of `body` for the node behind `number`, or the mapped errno on failure.
    /// Integrity and corruption errors are logged once, with the file's path.
    func answer(_ number: UInt64, _ body: (PointNamespace.Node, String) throws(NamespaceError) -> FuseReply) -> FuseReply {
        touch()
        guard let node = namespace.node(number: number) else { return .error(ENOENT) }
        let path = path(number)
        do {
            return try body(node, path)
        } catch {
            let errno = Errno.of(error)
            if errno == EIO { log("\(path): \(error)") }
            return .error(errno)
        }
    }

    /// What lookup and readdirplus tell the kernel about a node, cached for a day.
    func entry(_ node: PointNamespace.Node, path: String) throws(NamespaceError) -> FuseEntry {
        FuseEntry(node: node.number, attributes: StatConversion.stat(of: try namespace.attributes(node, path: path)),
                  timeout: Self.cacheTimeout)
    }

    // MARK: Operations

    func lookup(parent: UInt64, name: [UInt8]) -> FuseReply {
        answer(parent) { (directory, directoryPath) throws(NamespaceError) in
            guard let fileName = try? FileName(validating: name) else { throw .notFound("\(directoryPath)/\(String(decoding: name, as: UTF8.self))") }
            let childPath = PointNamespace.join(directoryPath, fileName)
            let child = try namespace.lookup(fileName, in: directory, path: childPath)
            let entry = try entry(child, path: childPath)
            remember(child.number, childPath)
            return .entry(entry)
        }
    }

    func getattr(_ number: UInt64) -> FuseReply {
        answer(number) { (node, path) throws(NamespaceError) in
            .attributes(StatConversion.stat(of: try namespace.attributes(node, path: path)), timeout: Self.cacheTimeout)
        }
    }

    func readlink(_ number: UInt64) -> FuseReply {
        answer(number) { (node, path) throws(NamespaceError) in
            .symlinkTarget(try namespace.withVolume(node, path: path) { volume, inner throws(VolumeError) in try volume.symlinkTarget(of: inner) })
        }
    }

    func statfs() -> FuseReply {
        touch()
        var info = statvfs()
        info.f_bsize = 4096
        info.f_frsize = 4096
        info.f_blocks = fsblkcnt_t(namespace.totalDiskBytes / 4096)
        info.f_namemax = 255
        info.f_flag = UInt(ST_RDONLY)
        return .statfs(info)
    }

    /// Every call that would change the tree (setattr, mknod, mkdir, unlink, rmdir, symlink,
    /// rename, link, write, create, setxattr, removexattr, fallocate). The mount is `ro`, so
    /// the kernel refuses them first; should one arrive anyway, the answer is the same.
    func refuseWrite() -> FuseReply {
        touch()
        return .error(EROFS)
    }
}
