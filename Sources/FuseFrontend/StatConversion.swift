#if canImport(Glibc)
import Glibc
#endif
import VolumeModel

/// A node's attributes as the `stat` the kernel is given.
enum StatConversion {
    static func stat(of attributes: NodeAttributes) -> stat {
        var info = Glibc.stat()
        info.st_ino = ino_t(attributes.node)
        info.st_mode = typeBits(attributes.kind) | mode_t(attributes.permissions)
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
}
