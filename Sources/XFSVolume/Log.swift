import ByteParsing
import VolumeModel

/// Whether the internal log is clean: its last record, just before the head, is the unmount
/// record a clean unmount writes (fs/xfs/xfs_log_recover.c, xlog_find_head and
/// xlog_check_unmount_rec). rpfs never replays a log; a log that is not clean means the
/// metadata on disk may lack the last changes, as on a `norecovery` mount.
///
/// The log is a ring of 512-byte blocks, each stamped at its start with the cycle (pass
/// number) it was written in (a record's header block after its magic); the head is where
/// the cycle drops. A record is a header block
/// (magic 0xFEEDBABE, more header blocks for large records) then its data.
struct LogState: Sendable {
    static let blockSize = 512
    static let recordMagic: UInt32 = 0xFEED_BABE
    static let unmountFlag: UInt8 = 0x20
    static let cycleHeaderSize = 32768
    /// The largest record (XLOG_MAX_RECORD_BSIZE) with its header blocks, in log blocks.
    static let maxRecordBlocks = 256 * 1024 / blockSize + 8

    let isClean: Bool

    /// Reads the log of `blockCount` log blocks from volume byte `origin` through `read`,
    /// which returns `count` log blocks from log block `first` (never past the end).
    static func find(blockCount: Int, read: (_ first: Int, _ count: Int) throws(VolumeError) -> [UInt8]) throws(VolumeError) -> LogState {
        // A record's header block holds its cycle after the magic (xlog_get_cycle).
        func cycle(_ block: Int) throws(VolumeError) -> UInt32 {
            let reader = ByteReader(try read(block, 1))
            let first = (try? reader.bigEndian(at: 0, "cycle") as UInt32) ?? 0
            return first == recordMagic ? (try? reader.bigEndian(at: 4, "cycle")) ?? 0 : first
        }
        // The head: the first block whose cycle is the last block's, when the first block's
        // is newer; at 0 when every block has the same cycle (the log just wrapped).
        let firstCycle = try cycle(0)
        let lastCycle = try cycle(blockCount - 1)
        var head = 0
        if firstCycle != lastCycle {
            var low = 0
            var high = blockCount - 1
            // Invariant: block `low` is of the newer cycle, block `high` of the older.
            while high - low > 1 {
                let middle = low + (high - low) / 2
                if try cycle(middle) == lastCycle { high = middle } else { low = middle }
            }
            head = high
        }
        // The last record header before the head, searching back at most one largest record.
        let window = min(maxRecordBlocks, blockCount)
        var bytes: [UInt8] = []
        var first = head - window
        if first < 0 {
            bytes = try read(blockCount + first, -first)
            first = 0
        }
        bytes += try read(first, head - first)
        var index = window - 1
        while index >= 0 {
            let reader = ByteReader(bytes)
            if (try? reader.bigEndian(at: index * blockSize, "magic") as UInt32) == recordMagic {
                return LogState(isClean: isUnmountRecord(bytes, at: index, head: window, blockCount: blockCount))
            }
            index -= 1
        }
        return LogState(isClean: false)
    }

    /// Whether the record whose header starts `bytes`' block `at` is an unmount record that
    /// ends exactly at `head` (the blocks of `bytes` end at the head).
    private static func isUnmountRecord(_ bytes: [UInt8], at index: Int, head: Int, blockCount: Int) -> Bool {
        let reader = ByteReader(bytes)
        let base = index * blockSize
        guard let length = try? reader.bigEndian(at: base + 12, "record length") as UInt32,
              let operations = try? reader.bigEndian(at: base + 40, "operation count") as UInt32,
              let version = try? reader.bigEndian(at: base + 8, "version") as UInt32,
              let size = try? reader.bigEndian(at: base + 320, "record size") as UInt32 else { return false }
        // Version 2 records larger than 32 KiB carry one more header block per 32 KiB.
        let headerBlocks = version == 2 && size > cycleHeaderSize ? (Int(size) + cycleHeaderSize - 1) / cycleHeaderSize : 1
        let dataBlocks = (Int(length) + blockSize - 1) / blockSize
        guard operations == 1, index + headerBlocks + dataBlocks == head,
              let flags = try? reader.integer(at: base + headerBlocks * blockSize + 9, "operation flags") as UInt8 else { return false }
        return flags & unmountFlag != 0
    }
}
