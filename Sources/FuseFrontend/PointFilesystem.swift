#if canImport(Glibc)
import Glibc
#endif
import CFuse3
import PointNamespace
import Synchronization
import VolumeModel

/// The filesystem behind the FUSE session: each low-level operation, answered from the
/// point's tree. Stateless but for open directory listings and the names learned by lookup
/// (to name files in error logs). Called on libfuse's worker threads, concurrently.
final class PointFilesystem: Sendable {
    /// The tree never changes: the kernel may cache entries and attributes for a day.
    static let cacheTimeout: Double = 86_400

    let namespace: PointNamespace
    private let directories = Mutex<(next: UInt64, open: [UInt64: [PointNamespace.Entry]])>((1, [:]))
    private let names = Mutex<[UInt64: String]>([1: "/"])
    /// Seconds since boot of the last request, for --idle-timeout.
    let lastAccess = Atomic<Int64>(0)
    private let log: @Sendable (String) -> Void
    /// The FUSE session (its address), through which windows are stored in the page cache.
    private let session = Atomic<UInt>(0)
    /// The page-cache window a small read fills: the point's largest chunk.
    private let windowSize: UInt64
    /// Windows being filled, by inode number and start.
    private let filling = Mutex<Set<[UInt64]>>([])
    /// A fill waits on kernel page locks held by reads that need a loop thread to be
    /// answered: fills may take only a few of the loop's threads (the rest answer reads),
    /// and a read that finds them all busy is not followed by a fill.
    static let maxConcurrentFills = 4

    init(namespace: PointNamespace, log: @escaping @Sendable (String) -> Void) {
        self.namespace = namespace
        self.log = log
        let chunkSize = namespace.largestChunkSize
        windowSize = UInt64(chunkSize > 0 ? chunkSize : Self.largestSmallRead)
        touch()
    }

    /// Called once the session exists, before it serves.
    func attach(_ session: OpaquePointer) {
        self.session.store(UInt(bitPattern: session), ordering: .releasing)
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

    private func path(_ number: UInt64) -> String {
        names.withLock { $0[number] } ?? "inode \(number)"
    }

    private func remember(_ number: UInt64, _ path: String) {
        names.withLock { names in
            // Bounded: past a million names, start over (they only serve error messages).
            if names.count > 1_000_000 { names.removeAll(keepingCapacity: true) }
            names[number] = path
        }
    }

    /// Runs `body` for the node behind `number`, replying with the mapped errno on failure.
    /// Integrity and corruption errors are logged once, with the file's path.
    private func answer(_ req: fuse_req_t?, _ number: UInt64, _ body: (PointNamespace.Node, String) throws(NamespaceError) -> Void) {
        touch()
        guard let node = namespace.node(number: number) else {
            fuse_reply_err(req, ENOENT)
            return
        }
        let path = path(number)
        do {
            try body(node, path)
        } catch {
            let errno = Errno.of(error)
            if errno == EIO { log("\(path): \(error)") }
            fuse_reply_err(req, errno)
        }
    }

    static func stat(of attributes: NodeAttributes) -> stat {
        var info = Glibc.stat()
        info.st_ino = ino_t(attributes.node)
        info.st_mode = Self.typeBits(attributes.kind) | mode_t(attributes.permissions)
        info.st_nlink = nlink_t(attributes.linkCount)
        info.st_uid = attributes.uid
        info.st_gid = attributes.gid
        info.st_size = off_t(clamping: attributes.size)
        info.st_blocks = blkcnt_t(clamping: (attributes.allocatedBytes + 511) / 512)
        info.st_blksize = 4096
        info.st_rdev = dev_t(attributes.device)
        info.st_atim = timespec(tv_sec: Int(attributes.accessed.seconds), tv_nsec: Int(attributes.accessed.nanoseconds))
        info.st_mtim = timespec(tv_sec: Int(attributes.modified.seconds), tv_nsec: Int(attributes.modified.nanoseconds))
        info.st_ctim = timespec(tv_sec: Int(attributes.changed.seconds), tv_nsec: Int(attributes.changed.nanoseconds))
        return info
    }

    static func typeBits(_ kind: NodeKind) -> mode_t {
        switch kind {
        case .regular: S_IFREG
        case .directory: S_IFDIR
        case .symlink: S_IFLNK
        case .blockDevice: S_IFBLK
        case .characterDevice: S_IFCHR
        case .fifo: S_IFIFO
        case .socket: S_IFSOCK
        }
    }

    // MARK: Operations

    func lookup(_ req: fuse_req_t?, parent: UInt64, name: UnsafePointer<CChar>) {
        answer(req, parent) { (directory, directoryPath) throws(NamespaceError) in
            let bytes = Array(UnsafeRawBufferPointer(start: name, count: strlen(name)))
            guard let fileName = try? FileName(validating: bytes) else { throw .notFound("\(directoryPath)/\(String(decoding: bytes, as: UTF8.self))") }
            let childPath = directoryPath == "/" ? "/\(fileName)" : "\(directoryPath)/\(fileName)"
            let child = try namespace.lookup(fileName, in: directory, path: childPath)
            var entry = try entryParameters(child, path: childPath)
            remember(child.number, childPath)
            fuse_reply_entry(req, &entry)
        }
    }

    /// What lookup and readdirplus tell the kernel about a node, cached for a day.
    private func entryParameters(_ node: PointNamespace.Node, path: String) throws(NamespaceError) -> fuse_entry_param {
        var entry = fuse_entry_param()
        entry.attr = Self.stat(of: try namespace.attributes(node, path: path))
        entry.ino = node.number
        entry.attr_timeout = Self.cacheTimeout
        entry.entry_timeout = Self.cacheTimeout
        return entry
    }

    func getattr(_ req: fuse_req_t?, _ number: UInt64) {
        answer(req, number) { (node, path) throws(NamespaceError) in
            var info = Self.stat(of: try namespace.attributes(node, path: path))
            fuse_reply_attr(req, &info, Self.cacheTimeout)
        }
    }

    func readlink(_ req: fuse_req_t?, _ number: UInt64) {
        answer(req, number) { (node, path) throws(NamespaceError) in
            let target = try namespace.withVolume(node, path: path) { volume, inner throws(VolumeError) in try volume.symlinkTarget(of: inner) }
            fuse_reply_readlink(req, target.map { CChar(bitPattern: $0) } + [0])
        }
    }

    func open(_ req: fuse_req_t?, _ number: UInt64, _ info: UnsafeMutablePointer<fuse_file_info>?) {
        answer(req, number) { (node, path) throws(NamespaceError) in
            guard let info else { throw .invalidPath(path, reason: "no file info") }
            guard info.pointee.flags & O_ACCMODE == O_RDONLY else {
                fuse_reply_err(req, EROFS)
                return
            }
            // Refused files (EFS, fscrypt) fail here rather than on the first read.
            _ = try namespace.withVolume(node, path: path) { volume, inner throws(VolumeError) in try volume.dataRanges(of: inner) }
            // Contents never change: keep the kernel's page cache across opens.
            rpfs_fuse_keep_cache(info)
            fuse_reply_open(req, info)
        }
    }

    func read(_ req: fuse_req_t?, _ number: UInt64, size: Int, offset: off_t) {
        answer(req, number) { (node, path) throws(NamespaceError) in
            let buffer = takeReplyBuffer(size)
            defer { giveBack(buffer) }
            let got = try namespace.withVolume(node, path: path) { volume, inner throws(VolumeError) in
                try volume.read(inner, at: UInt64(max(offset, 0)), into: UnsafeMutableRawBufferPointer(rebasing: buffer[0 ..< size]))
            }
            fuse_reply_buf(req, buffer.baseAddress?.assumingMemoryBound(to: CChar.self), got)
            if size < Self.largestSmallRead { fillWindow(around: UInt64(max(offset, 0)), asked: size, served: got, number, node, path) }
        }
    }

    // MARK: Page-cache windows

    /// Sequential readers arrive as read-ahead requests of 128 KiB and more; anything smaller
    /// is a random read (fio, a database, `file` reading a header).
    static let largestSmallRead = 128 << 10

    /// After a small read, stores the whole window around it (one chunk's worth, file-aligned)
    /// in the kernel's page cache. Serving the read decrypted and authenticated the chunk
    /// anyway; with the window stored, the next reads nearby are page-cache hits that never
    /// reach the daemon, instead of each costing a chunk when the chunk cache is smaller than
    /// the reader's working set. Done after the reply, so the read's latency is unchanged
    /// and the page lock its reply releases is not waited on by its own thread.
    /// Page-cache pages are the kernel's to reclaim; they do not count against --cache-size.
    private func fillWindow(around offset: UInt64, asked: Int, served count: Int, _ number: UInt64, _ node: PointNamespace.Node, _ path: String) {
        let start = offset / windowSize * windowSize
        // Nothing to add when the reply carried the window's rest: a short reply means the file
        // ends there (a small file read whole, the usual case in a tree walk).
        let reachedEnd = count < asked
        guard count > 0, start < offset || (!reachedEnd && offset + UInt64(count) < start + windowSize) else { return }
        let key = [number, start]
        guard let session = OpaquePointer(bitPattern: session.load(ordering: .acquiring)),
              filling.withLock({ $0.count < Self.maxConcurrentFills && $0.insert(key).inserted }) else { return }
        defer { _ = filling.withLock { $0.remove(key) } }
        // In reply-buffer pieces: a window-sized buffer per fill, freed each time, fragmented
        // the heap (a benchmark's daemon grew to 580 MiB); the reply buffers are kept anyway.
        let buffer = takeReplyBuffer(Self.replyBufferSize)
        defer { giveBack(buffer) }
        var position = start
        while position < start + windowSize {
            let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[0 ..< Int(min(UInt64(buffer.count), start + windowSize - position))])
            // A piece that cannot be read is simply not stored: the reads that want its bytes
            // come to the daemon and meet (and log) the error themselves.
            guard let got = try? namespace.withVolume(node, path: path, { volume, inner throws(VolumeError) in
                try volume.read(inner, at: position, into: piece)
            }), got > 0 else { return }
            // Only bytes below the file's end: a store past it would extend the file's size.
            // Failure (the kernel forgot the inode meanwhile) only means no window.
            guard rpfs_fuse_store(session, number, off_t(position), piece.baseAddress, got) == 0, got == piece.count else { return }
            position += UInt64(got)
        }
    }

    /// Read replies are at most 1 MiB (max_write): one buffer per busy loop thread, reused, so
    /// a read does not map and fault in fresh memory (profiled: a fifth of the daemon's CPU).
    static let replyBufferSize = 1 << 20
    private let replyBuffers = Mutex<[UInt]>([])

    private func takeReplyBuffer(_ size: Int) -> UnsafeMutableRawBufferPointer {
        guard size <= Self.replyBufferSize else { return .allocate(byteCount: size, alignment: 4096) }
        let address = replyBuffers.withLock { $0.popLast() }
        let start = address.flatMap { UnsafeMutableRawPointer(bitPattern: $0) }
            ?? UnsafeMutableRawPointer.allocate(byteCount: Self.replyBufferSize, alignment: 4096)
        return UnsafeMutableRawBufferPointer(start: start, count: Self.replyBufferSize)
    }

    private func giveBack(_ buffer: UnsafeMutableRawBufferPointer) {
        guard buffer.count == Self.replyBufferSize, let start = buffer.baseAddress else { return buffer.deallocate() }
        replyBuffers.withLock { $0.append(UInt(bitPattern: start)) }
    }

    /// SEEK_DATA and SEEK_HOLE from the file's data ranges, so sparse-aware tools see holes.
    func lseek(_ req: fuse_req_t?, _ number: UInt64, offset: off_t, whence: Int32) {
        answer(req, number) { (node, path) throws(NamespaceError) in
            let size = try namespace.attributes(node, path: path).size
            let ranges = try namespace.withVolume(node, path: path) { volume, inner throws(VolumeError) in try volume.dataRanges(of: inner) }
            let position = UInt64(max(offset, 0))
            guard position < size else {
                fuse_reply_err(req, ENXIO)
                return
            }
            switch whence {
            case 3: // SEEK_DATA
                if let range = ranges.first(where: { $0.upperBound > position }) {
                    fuse_reply_lseek(req, off_t(max(range.lowerBound, position)))
                } else {
                    fuse_reply_err(req, ENXIO)
                }
            case 4: // SEEK_HOLE: the end of the data range holding the position, or the position
                let hole = ranges.first(where: { $0.contains(position) }).map { min($0.upperBound, size) } ?? position
                fuse_reply_lseek(req, off_t(hole))
            default:
                fuse_reply_err(req, EINVAL)
            }
        }
    }

    func opendir(_ req: fuse_req_t?, _ number: UInt64, _ info: UnsafeMutablePointer<fuse_file_info>?) {
        answer(req, number) { (node, path) throws(NamespaceError) in
            guard let info else { throw .invalidPath(path, reason: "no file info") }
            let entries = try namespace.list(node, path: path)
            for entry in entries {
                remember(entry.node.number, path == "/" ? "/\(entry.name)" : "\(path)/\(entry.name)")
            }
            info.pointee.fh = directories.withLock { state in
                let handle = state.next
                state.next += 1
                state.open[handle] = entries
                return handle
            }
            rpfs_fuse_keep_cache(info)
            fuse_reply_open(req, info)
        }
    }

    /// readdir, or with `plus` readdirplus: each entry with its attributes, so that `ls -l`,
    /// `find` and `cp -a` need no lookup per name.
    func readdir(_ req: fuse_req_t?, _ number: UInt64, size: Int, offset: off_t, _ info: UnsafeMutablePointer<fuse_file_info>?, plus: Bool) {
        touch()
        guard let handle = info?.pointee.fh, let entries = directories.withLock({ $0.open[handle] }) else {
            fuse_reply_err(req, EBADF)
            return
        }
        let directoryPath = path(number)
        // Offsets: 0 ".", 1 "..", then entry i at i + 2.
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(size, 1))
        defer { buffer.deallocate() }
        var used = 0
        var position = Int(max(offset, 0))
        while position < entries.count + 2 {
            // ino 0 in readdirplus: no attributes for this name (".", "..", or one that
            // failed to read: its own lookup reports the error).
            var parameters = fuse_entry_param()
            let name: [UInt8]
            if position < 2 {
                parameters.attr.st_ino = ino_t(number)
                parameters.attr.st_mode = S_IFDIR
                name = position == 0 ? [0x2E] : [0x2E, 0x2E]
            } else {
                let entry = entries[position - 2]
                if plus {
                    let childPath = directoryPath == "/" ? "/\(entry.name)" : "\(directoryPath)/\(entry.name)"
                    parameters = (try? entryParameters(entry.node, path: childPath)) ?? fuse_entry_param()
                }
                parameters.attr.st_ino = ino_t(entry.node.number)
                parameters.attr.st_mode = parameters.attr.st_mode == 0 ? Self.typeBits(entry.kind) : parameters.attr.st_mode
                name = entry.name.bytes
            }
            let cName = name.map { CChar(bitPattern: $0) } + [0]
            let needed = plus
                ? fuse_add_direntry_plus(req, buffer + used, size - used, cName, &parameters, off_t(position + 1))
                : fuse_add_direntry(req, buffer + used, size - used, cName, &parameters.attr, off_t(position + 1))
            if needed > size - used { break }
            used += needed
            position += 1
        }
        fuse_reply_buf(req, buffer, used)
    }

    func releasedir(_ req: fuse_req_t?, _ info: UnsafeMutablePointer<fuse_file_info>?) {
        if let handle = info?.pointee.fh {
            directories.withLock { _ = $0.open.removeValue(forKey: handle) }
        }
        fuse_reply_err(req, 0)
    }

    func statfs(_ req: fuse_req_t?) {
        touch()
        var info = statvfs()
        let bytes = namespace.totalDiskBytes
        info.f_bsize = 4096
        info.f_frsize = 4096
        info.f_blocks = fsblkcnt_t(bytes / 4096)
        info.f_namemax = 255
        info.f_flag = UInt(ST_RDONLY)
        fuse_reply_statfs(req, &info)
    }

    func getxattr(_ req: fuse_req_t?, _ number: UInt64, name: UnsafePointer<CChar>, size: Int) {
        answer(req, number) { (node, path) throws(NamespaceError) in
            let key = String(cString: name)
            let attributes = try extendedAttributes(node, path)
            guard let value = attributes.first(where: { $0.name == key })?.value else {
                fuse_reply_err(req, ENODATA)
                return
            }
            reply(req, value, size: size)
        }
    }

    func listxattr(_ req: fuse_req_t?, _ number: UInt64, size: Int) {
        answer(req, number) { (node, path) throws(NamespaceError) in
            let list = try extendedAttributes(node, path).flatMap { Array($0.name.utf8) + [UInt8(0)] }
            reply(req, list, size: size)
        }
    }

    private func extendedAttributes(_ node: PointNamespace.Node, _ path: String) throws(NamespaceError) -> [ExtendedAttribute] {
        guard case .file = node else { return [] }
        return try namespace.withVolume(node, path: path) { volume, inner throws(VolumeError) in try volume.extendedAttributes(of: inner) }
    }

    /// The xattr protocol: size 0 asks for the length; a too-small buffer is ERANGE.
    private func reply(_ req: fuse_req_t?, _ bytes: [UInt8], size: Int) {
        if size == 0 {
            fuse_reply_xattr(req, bytes.count)
        } else if size < bytes.count {
            fuse_reply_err(req, ERANGE)
        } else {
            _ = bytes.withUnsafeBytes { fuse_reply_buf(req, $0.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count) }
        }
    }
}
