#if canImport(Glibc)
import Glibc
#endif
import CFuse3

/// The one place a reply becomes a libfuse call.
enum FuseAdapter {
    /// Sends `reply` for `req`. `info` is the file info of open and opendir, which their reply fills in.
    static func send(_ reply: FuseReply, to req: fuse_req_t?, file info: UnsafeMutablePointer<fuse_file_info>? = nil) {
        switch reply {
        case let .entry(entry):
            var parameters = parameters(entry)
            fuse_reply_entry(req, &parameters)
        case .attributes(var attributes, let timeout):
            fuse_reply_attr(req, &attributes, timeout)
        case let .data(read):
            fuse_reply_buf(req, read.buffer.baseAddress?.assumingMemoryBound(to: CChar.self), read.count)
        case let .directoryPage(page):
            send(page, to: req)
        case let .symlinkTarget(target):
            fuse_reply_readlink(req, target.map { CChar(bitPattern: $0) } + [0])
        case let .xattrSize(count):
            fuse_reply_xattr(req, count)
        case let .xattrBytes(bytes):
            _ = bytes.withUnsafeBytes { fuse_reply_buf(req, $0.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count) }
        case var .statfs(statistics):
            fuse_reply_statfs(req, &statistics)
        case let .offset(offset):
            fuse_reply_lseek(req, offset)
        case let .open(handle, keepCache):
            guard let info else {
                fuse_reply_err(req, EINVAL)
                return
            }
            if let handle { info.pointee.fh = handle }
            if keepCache { rpfs_fuse_keep_cache(info) }
            fuse_reply_open(req, info)
        case let .error(errno):
            fuse_reply_err(req, errno)
        }
    }

    private static func parameters(_ entry: FuseEntry) -> fuse_entry_param {
        var parameters = fuse_entry_param()
        parameters.ino = entry.node
        parameters.attr = entry.attributes
        parameters.attr_timeout = entry.timeout
        parameters.entry_timeout = entry.timeout
        return parameters
    }

    private static func send(_ page: DirectoryPage, to req: fuse_req_t?) {
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(page.size, 1))
        defer { buffer.deallocate() }
        fuse_reply_buf(req, buffer, pack(page, into: buffer, for: req))
    }

    /// Packs the page's records with fuse_add_direntry(_plus) into `buffer` (`page.size`
    /// bytes) for `req`; returns the bytes used.
    static func pack(_ page: DirectoryPage, into buffer: UnsafeMutablePointer<CChar>, for req: fuse_req_t?) -> Int {
        var used = 0
        for record in page.entries {
            var parameters = parameters(record.entry)
            let name = record.name.map { CChar(bitPattern: $0) } + [0]
            let needed = page.plus
                ? fuse_add_direntry_plus(req, buffer + used, page.size - used, name, &parameters, off_t(record.nextOffset))
                : fuse_add_direntry(req, buffer + used, page.size - used, name, &parameters.attr, off_t(record.nextOffset))
            // The page was measured to fit; a record that would not is left out, not overrun.
            if needed > page.size - used { break }
            used += needed
        }
        return used
    }
}
