import Dispatch
import RecoveryPoint
import Synchronization

/// One disk of an opened point as a `BlockDevice`: the decrypted disk, read on demand.
///
/// A read touches only the chunks it covers. Holes read as zeros without I/O. Chunks come
/// through a cache shared by all disks of the point; a sequential reader triggers read-ahead
/// of the next chunks on other cores, so decryption overlaps the reader's own work.
public final class RecoveryPointDisk: BlockDevice {
    public static let defaultCacheSize = 256 << 20
    /// Read-ahead never takes more than this, nor more than a quarter of the cache.
    static let maxReadAheadBytes = 32 << 20

    public let point: OpenedPoint
    public let diskIndex: Int
    public let layout: DiskLayout
    /// Shared by every disk of the point.
    public let cache: ChunkCache
    private let readAheadChunks: UInt64
    /// The last chunk a read touched: a read of the next one means a sequential reader.
    private let lastChunk = Atomic<UInt64>(.max)
    /// Sequential steps in a row up to the last read.
    private let sequentialSteps = Atomic<Int>(0)

    public var size: UInt64 { layout.size }

    /// Every disk of `point`, sharing one cache of `cacheSize` bytes.
    public static func disks(of point: OpenedPoint, cacheSize: Int = defaultCacheSize) -> [RecoveryPointDisk] {
        disks(of: point, cache: ChunkCache(capacity: cacheSize))
    }

    /// Every disk of `point`, sharing `cache` (which must serve this point alone).
    public static func disks(of point: OpenedPoint, cache: ChunkCache) -> [RecoveryPointDisk] {
        point.header.disks.indices.map { RecoveryPointDisk(point: point, disk: $0, cache: cache) }
    }

    private init(point: OpenedPoint, disk: Int, cache: ChunkCache) {
        self.point = point
        diskIndex = disk
        layout = point.header.disks[disk]
        self.cache = cache
        let window = min(Self.maxReadAheadBytes, cache.capacity / 4)
        readAheadChunks = UInt64(min(64, window / layout.chunkSize))
    }

    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DiskReadError) {
        try checkRange(offset, buffer.count)
        let shift = UInt64(layout.chunkSizeLog2)
        var done = 0
        while done < buffer.count {
            let position = offset + UInt64(done)
            let index = position >> shift
            let within = Int(position - (index << shift))
            let range = layout.range(ofChunk: index)
            let n = min(buffer.count - done, range.count - within)
            let target = UnsafeMutableRawBufferPointer(rebasing: buffer[done ..< done + n])
            noteAccess(index)
            if let chunk = try chunk(index) {
                target.copyMemory(from: UnsafeRawBufferPointer(rebasing: chunk.payload[within ..< within + n]))
            } else {
                target.initializeMemory(as: UInt8.self, repeating: 0)
            }
            done += n
        }
    }

    /// The decrypted chunk, or nil for a hole.
    private func chunk(_ index: UInt64) throws(DiskReadError) -> ChunkBuffer? {
        guard let id = point.maps[diskIndex].id(at: index) else { return nil }
        return try cache.chunk(ChunkCache.Key(disk: diskIndex, index: index), size: layout.range(ofChunk: index).count) { () throws(DiskReadError) in
            try load(index, id)
        }
    }

    /// `ahead`: a read-ahead load, for a sequential reader who reads the chunk once.
    private func load(_ index: UInt64, _ id: ChunkID, ahead: Bool = false) throws(DiskReadError) -> ChunkBuffer {
        do throws(RecoveryPointError) {
            return try point.chunk(disk: diskIndex, index: index, id: id, once: ahead)
        } catch {
            throw .chunk(error)
        }
    }

    /// A sequential reader is one that has made two steps in a row (chunks i-2, i-1, i). Once
    /// the cache reads ahead, such a reader gets the next chunks loaded ahead, and chunk i-2,
    /// which it has passed, dropped (i-1 may still get the reads a kernel's read-ahead sends
    /// out of order). It reads each byte once, and a mount's page cache keeps what it read:
    /// holding those chunks would fill the cache with fresh memory (a 4 MiB chunk's pages
    /// zeroed for every chunk of a first 256 MiB read, a fifth of the daemon's time) and evict
    /// what is read again. A single step is no such reader: a tree walk crosses into the next
    /// chunk with files still to read in the first, and a random reader's page-cache window
    /// straddles two chunks. Reading ahead on a single step made every random 4 KiB read load
    /// up to 32 MiB it never used (fio through a mount, 64 KiB chunks: 350-390 IOPS; with two
    /// steps 34,000-38,500).
    private func noteAccess(_ index: UInt64) {
        let previous = lastChunk.exchange(index, ordering: .relaxed)
        // More reads in the same chunk neither make nor break a run.
        guard index != previous else { return }
        guard previous != .max, index == previous &+ 1 else {
            sequentialSteps.store(0, ordering: .relaxed)
            return
        }
        let steps = sequentialSteps.add(1, ordering: .relaxed).newValue
        guard steps >= 2, readAheadChunks > 0, cache.readsAhead else { return }
        cache.release(ChunkCache.Key(disk: diskIndex, index: index - 2))
        let last = min(index + readAheadChunks, layout.chunkCount - 1)
        guard index < last else { return }
        for next in index + 1 ... last {
            guard let id = point.maps[diskIndex].id(at: next) else { continue }
            cache.prefetch(ChunkCache.Key(disk: diskIndex, index: next), size: layout.range(ofChunk: next).count) { [self] () throws(DiskReadError) in
                try load(next, id, ahead: true)
            }
        }
    }
}
