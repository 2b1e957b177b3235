import BlockDevices
import RecoveryPoint
import Synchronization

/// One disk of an opened point as a `BlockDevice`: the decrypted disk, read on demand.
///
/// A read touches only the chunks it covers. Holes read as zeros without I/O. Chunks come
/// through a cache shared by all disks of the point; how sequential readers are recognised
/// and served (read-ahead, drop-behind, uncached loads) is the cache's `ReadPolicy`.
public final class RecoveryPointDisk: BlockDevice {
    public static let defaultCacheSize = ReadPolicy.defaultCacheBytes

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
        readAheadChunks = cache.policy.readAheadChunks(chunkSize: layout.chunkSize)
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

    /// Starts loading chunk `index` on a loader, unless it is cached, loading or a hole: for
    /// a reader that knows which chunks it will want (a restore, over a remote store).
    public func prefetch(_ index: UInt64) {
        guard index < layout.chunkCount, let id = point.maps[diskIndex].id(at: index) else { return }
        cache.prefetch(ChunkCache.Key(disk: diskIndex, index: index), size: layout.range(ofChunk: index).count) { [self] () throws(DiskReadError) in
            try load(index, id)
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
            let once = ahead && cache.policy.uncachedReadAhead
            return try point.chunk(disk: diskIndex, index: index, id: id, once: once, pool: cache.buffers)
        } catch {
            throw .source(ChunkFailure(error: error))
        }
    }

    /// Counts sequential steps and, once a reader is sequential (`ReadPolicy`), drops the
    /// chunk it has passed and loads the next ones ahead. Chunk i-1 stays: a kernel's
    /// read-ahead may still send reads for it out of order.
    private func noteAccess(_ index: UInt64) {
        let previous = lastChunk.exchange(index, ordering: .relaxed)
        // More reads in the same chunk neither make nor break a run.
        guard index != previous else { return }
        guard previous != .max, index == previous &+ 1 else {
            sequentialSteps.store(0, ordering: .relaxed)
            return
        }
        let policy = cache.policy
        let steps = sequentialSteps.add(1, ordering: .relaxed).newValue
        guard steps >= policy.sequentialSteps, readAheadChunks > 0, cache.readsAhead else { return }
        if index >= policy.dropBehind {
            cache.release(ChunkCache.Key(disk: diskIndex, index: index - policy.dropBehind))
        }
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
