import BlockDevices
import CExt2fs
import Synchronization
import VolumeModel

/// Turns libext2fs `errcode_t` values into `VolumeError`s with readable messages.
enum Ext2Errors {
    /// com_err needs the ext2 table registered before `error_message` can name its codes.
    private static let tableRegistered: Void = initialize_ext2_error_table()
    /// `error_message` formats unknown codes into one static buffer: one caller at a time
    /// (volumes each have their own lock, so two could get here together).
    private static let messageLock = Mutex(())

    /// The library's text for `code` ("Ext2 inode is not a directory", strerror for errnos).
    static func message(_ code: errcode_t) -> String {
        _ = tableRegistered
        return messageLock.withLock { _ in
            guard let text = error_message(code) else { return "error \(code)" }
            return String(cString: text)
        }
    }

    /// The `VolumeError` for a failed call: `context` says what was being done and to what.
    /// A read error recorded by the I/O channel wins over the code it became.
    static func volumeError(_ code: errcode_t, _ context: String, device: DiskReadError?) -> VolumeError {
        if let device {
            switch device {
            case .outOfRange:
                // The filesystem pointed outside its own volume.
                return .corrupt("\(context): a block lies outside the volume (\(device))")
            case .source, .io:
                return .device(device)
            }
        }
        let text = message(code)
        switch code {
        case EXT2_ET_BAD_INODE_NUM:
            return .notFound(context)
        case EXT2_ET_UNSUPP_FEATURE, EXT2_ET_RO_UNSUPP_FEATURE:
            return .unsupported("\(context): \(text)")
        case EXT2_ET_BAD_MAGIC:
            return .corrupt("\(context): no ext2/ext3/ext4 superblock (magic is not 0xEF53)")
        case EXT2_ET_NO_MEMORY:
            // Allocation sizes come from the disk; a hostile size ends here, not in a crash.
            return .corrupt("\(context): \(text) (a size on disk is implausibly large)")
        default:
            return .corrupt("\(context): \(text)")
        }
    }
}
