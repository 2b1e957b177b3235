/// What an open XFS volume is, from its superblock.
public struct XFSInfo: Sendable, Equatable {
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
}
