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

    /// The `VolumeError` for a failed call on `structure` ("inode 12", "extent tree of inode
    /// 12"). A read error recorded by the I/O channel wins over the code it became.
    static func volumeError(_ code: errcode_t, volume: String, structure: String, error channelError: ChannelError?) -> VolumeError {
        switch channelError {
        case let .read(error, offset, count):
            return VolumeRead(volume: volume, offset: offset, count: count, purpose: structure).failure(error)
        case let .unaddressable(block, blockSize):
            return .corrupt(volume: volume, structure: structure,
                            problem: "block \(block) of \(blockSize) bytes lies past 2^64 bytes, outside the volume")
        case nil:
            break
        }
        let text = message(code)
        switch code {
        case EXT2_ET_BAD_INODE_NUM:
            return .notFound("\(volume): \(structure)")
        case EXT2_ET_UNSUPP_FEATURE, EXT2_ET_RO_UNSUPP_FEATURE:
            return .unsupported("\(volume): \(structure): \(text)")
        case EXT2_ET_BAD_MAGIC:
            return .corrupt(volume: volume, structure: structure, problem: "no ext2/ext3/ext4 superblock (magic is not 0xEF53)")
        case EXT2_ET_NO_MEMORY:
            // Allocation sizes come from the disk; a hostile size ends here, not in a crash.
            return .corrupt(volume: volume, structure: structure, problem: "\(text) (a size on disk is implausibly large)")
        default:
            return .corrupt(volume: volume, structure: structure, problem: text)
        }
    }
}
