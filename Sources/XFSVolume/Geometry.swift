/// Where inode numbers and filesystem block numbers lie on the volume. Both carry the AG
/// number above the AG-relative part (xfs_format.h: XFS_INO_TO_AGNO, XFS_FSB_TO_AGNO), so
/// they are sparse: the AG's size is rounded up to a power of two in them.
extension Superblock {
    /// Whether every inode number the geometry can form lies below 2^`bits`.
    func inodeNumbersFit(in bits: Int) -> Bool {
        guard agInodeBits < bits else { return false }
        return UInt64(agCount) <= UInt64(1) << UInt64(bits - agInodeBits)
    }

    /// Volume byte of inode `number`; nil when the number names no inode of the geometry.
    func inodeOffset(_ number: UInt64) -> UInt64? {
        let ag = number >> UInt64(agInodeBits)
        let agBlock = (number >> UInt64(inodesPerBlockLog)) & ((1 << UInt64(agBlockLog)) - 1)
        let index = number & ((1 << UInt64(inodesPerBlockLog)) - 1)
        guard ag < agCount, agBlock < agBlocks else { return nil }
        // Below the data blocks, whose bytes the device holds (checked at open): no overflow.
        let block = ag * UInt64(agBlocks) + agBlock
        guard block < dataBlocks else { return nil }
        return block * UInt64(blockSize) + index * UInt64(inodeSize)
    }

    /// The volume block (from the start of AG 0) of `count` filesystem blocks from `fsBlock`;
    /// nil when they leave their AG or the data device (extents never cross an AG).
    func volumeBlock(_ fsBlock: UInt64, count: UInt64 = 1) -> UInt64? {
        let ag = fsBlock >> UInt64(agBlockLog)
        let agBlock = fsBlock & ((1 << UInt64(agBlockLog)) - 1)
        guard ag < agCount, count <= UInt64(agBlocks), agBlock <= UInt64(agBlocks) - count else { return nil }
        let block = ag * UInt64(agBlocks) + agBlock
        guard block + count <= dataBlocks else { return nil }
        return block
    }
}
