#if canImport(Glibc)
import Glibc
#endif
import CFuse3
import Synchronization

/// What a FUSE session's requests reach: the filesystem, and the session through which
/// read windows are stored in the page cache.
final class SessionContext: Sendable {
    let filesystem: PointFilesystem
    /// The FUSE session (its address), set once it exists, before it serves.
    private let session = Atomic<UInt>(0)

    init(_ filesystem: PointFilesystem) {
        self.filesystem = filesystem
    }

    func attach(_ session: OpaquePointer) {
        self.session.store(UInt(bitPattern: session), ordering: .releasing)
    }

    /// After a read's reply: stores its window in the kernel's page cache, frees its buffer.
    func finish(_ read: ReadReply, _ number: UInt64) {
        let session = OpaquePointer(bitPattern: session.load(ordering: .acquiring))
        filesystem.finish(read) { offset, bytes in
            guard let session else { return false }
            return rpfs_fuse_store(session, number, off_t(offset), bytes.baseAddress, bytes.count) == 0
        }
    }
}

/// The low-level operation table: each C callback asks the filesystem for a reply and hands
/// it to `FuseAdapter`. Write-class operations are answered EROFS (the `ro` mount has the
/// kernel refuse them before they reach us).
enum FuseOperations {
    static func table() -> fuse_lowlevel_ops {
        var ops = fuse_lowlevel_ops()
        ops.`init` = { _, conn in
            // Ask for requests up to 1 MiB (the kernel turns max_write into max_pages).
            conn?.pointee.max_write = 1 << 20
        }
        ops.lookup = { req, parent, name in
            guard let name else { return FuseAdapter.send(.error(EINVAL), to: req) }
            let bytes = Array(UnsafeRawBufferPointer(start: name, count: strlen(name)))
            FuseAdapter.send(filesystem(req).lookup(parent: parent, name: bytes), to: req)
        }
        ops.getattr = { req, ino, _ in FuseAdapter.send(filesystem(req).getattr(ino), to: req) }
        ops.readlink = { req, ino in FuseAdapter.send(filesystem(req).readlink(ino), to: req) }
        ops.open = { req, ino, info in
            guard let info else { return FuseAdapter.send(.error(EINVAL), to: req) }
            FuseAdapter.send(filesystem(req).open(ino, flags: info.pointee.flags), to: req, file: info)
        }
        ops.read = { req, ino, size, offset, _ in
            let context = context(req)
            let reply = context.filesystem.read(ino, size: size, offset: offset)
            FuseAdapter.send(reply, to: req)
            if case let .data(read) = reply { context.finish(read, ino) }
        }
        ops.release = { req, _, _ in FuseAdapter.send(.error(0), to: req) }
        ops.opendir = { req, ino, info in
            guard let info else { return FuseAdapter.send(.error(EINVAL), to: req) }
            FuseAdapter.send(filesystem(req).opendir(ino), to: req, file: info)
        }
        ops.readdir = { req, ino, size, offset, info in
            FuseAdapter.send(filesystem(req).readdir(ino, handle: info?.pointee.fh, size: size, offset: offset, plus: false), to: req)
        }
        ops.readdirplus = { req, ino, size, offset, info in
            FuseAdapter.send(filesystem(req).readdir(ino, handle: info?.pointee.fh, size: size, offset: offset, plus: true), to: req)
        }
        ops.releasedir = { req, _, info in FuseAdapter.send(filesystem(req).releasedir(handle: info?.pointee.fh), to: req) }
        ops.statfs = { req, _ in FuseAdapter.send(filesystem(req).statfs(), to: req) }
        ops.getxattr = { req, ino, name, size in
            guard let name else { return FuseAdapter.send(.error(EINVAL), to: req) }
            FuseAdapter.send(filesystem(req).getxattr(ino, name: String(cString: name), size: size), to: req)
        }
        ops.listxattr = { req, ino, size in FuseAdapter.send(filesystem(req).listxattr(ino, size: size), to: req) }
        ops.lseek = { req, ino, offset, whence, _ in FuseAdapter.send(filesystem(req).lseek(ino, offset: offset, whence: whence), to: req) }

        ops.setattr = { req, _, _, _, _ in refuse(req) }
        ops.mknod = { req, _, _, _, _ in refuse(req) }
        ops.mkdir = { req, _, _, _ in refuse(req) }
        ops.unlink = { req, _, _ in refuse(req) }
        ops.rmdir = { req, _, _ in refuse(req) }
        ops.symlink = { req, _, _, _ in refuse(req) }
        ops.rename = { req, _, _, _, _, _ in refuse(req) }
        ops.link = { req, _, _, _ in refuse(req) }
        ops.write = { req, _, _, _, _, _ in refuse(req) }
        ops.create = { req, _, _, _, _ in refuse(req) }
        ops.setxattr = { req, _, _, _, _, _ in refuse(req) }
        ops.removexattr = { req, _, _ in refuse(req) }
        ops.fallocate = { req, _, _, _, _, _ in refuse(req) }
        return ops
    }
}

/// The context a request belongs to: the userdata given to fuse_session_new. Free
/// functions, because C function pointers cannot capture anything, not even a type.
private func context(_ req: fuse_req_t?) -> SessionContext {
    Unmanaged<SessionContext>.fromOpaque(fuse_req_userdata(req)).takeUnretainedValue()
}

private func filesystem(_ req: fuse_req_t?) -> PointFilesystem {
    context(req).filesystem
}

private func refuse(_ req: fuse_req_t?) {
    FuseAdapter.send(filesystem(req).refuseWrite(), to: req)
}
