/// What an open XFS volume is, from its superblock and log.
public struct XFSInfo: Sendable, Equatable {
    /// What the log says about the last unmount. rpfs never replays a log.
    public enum Log: Sendable, Equatable {
        /// Its last record is the unmount record: the metadata on disk is complete.
        case clean
        /// Not cleanly unmounted (a crash, or a backup of a mounted filesystem): what is shown
        /// is what a `norecovery` mount shows, and the latest changes may be missing.
        case notClean
        /// On another device, which the volume does not hold.
        case external
        /// It could not be read (the reason).
        case unreadable(String)
    }

    public let label: String
    /// 4 (no CRCs) or 5 (CRC-checked metadata).
    public let version: Int
    public let blockSize: UInt32
    public let dataBlocks: UInt64
    public let agCount: UInt32
    public let inodeSize: UInt32
    public let directoryBlockSize: UInt32
    /// The volume has a realtime subvolume: its files' data lies on another device, and
    /// reading them is refused.
    public let hasRealtimeSubvolume: Bool
    public let log: Log
}
