#if canImport(Glibc)
import Glibc
#endif
import Cryptography
import FoundationEssentials
import KeyManagement
import POSIXFiles
import Pools
import Synchronization

/// What `rpfs create` asks for.
public struct PointRequest: Sendable {
    public var images: [String]
    public var kek: KEKReference
    public var sourceName: String?
    public var parent: PointID?
    public var guestEncryption: GuestEncryption = .none
    public var chunkSizeLog2: UInt8 = DiskLayout.defaultChunkSizeLog2

    public init(images: [String], kek: KEKReference) {
        self.images = images
        self.kek = kek
    }
}

/// What a write did, for the summary line.
public struct WriteStatistics: Sendable {
    public var bytesRead: UInt64 = 0
    public var holeChunks = 0
    public var newChunks = 0
    /// Chunks whose id was already in the store (from the parent, or repeated content).
    public var reusedChunks = 0
}

/// Makes points from raw disk images.
///
/// Order of work, so that a crash or Ctrl-C never leaves a point that looks complete:
/// chunks first (each object written under a temporary name, then renamed), then one
/// filesystem sync, then the point file (also temporary name, sync, rename). Until that
/// last rename there is no point; objects left by an interrupted run are unreferenced.
public enum PointWriter {
    public typealias Progress = @Sendable (_ done: UInt64, _ total: UInt64) -> Void

    public static func create(_ request: PointRequest, store: some ChunkStore, provider: some KeyProvider,
                              progress: Progress? = nil) throws(RecoveryPointError) -> (PointID, WriteStatistics) {
        guard !request.images.isEmpty, request.images.count <= PointFormat.maxDisks else {
            throw .invalidArgument("a point holds 1 to \(PointFormat.maxDisks) disks, got \(request.images.count)")
        }
        guard (DiskLayout.minChunkSizeLog2 ... DiskLayout.maxChunkSizeLog2).contains(request.chunkSizeLog2) else {
            throw .invalidArgument("chunk size must be a power of two from 64 KiB to 16 MiB")
        }
        let kek: KEKIdentifier
        do {
            kek = try provider.resolve(request.kek)
        } catch {
            throw .key(error, point: nil)
        }
        // An incremental point shares its parent's DEK and key domain: only then are equal
        // chunks equal objects, so the parent's chunks are reused instead of written again.
        let keys: KeySchedule
        if let parentID = request.parent {
            keys = try OpenedPoint.open(parentID, in: store, provider: provider).keys
        } else {
            do {
                keys = try KeySchedule(dek: try SecretBytes(randomCount: AES256GCM.keySize), domain: try Random.bytes(PointFormat.domainSize))
            } catch {
                throw .crypto(error)
            }
        }
        let wrapped: [UInt8]
        do {
            wrapped = try provider.wrap(keys.dataEncryptionKey, with: kek)
        } catch {
            throw .key(error, point: nil)
        }

        let sources = try request.images.map { (path) throws(RecoveryPointError) in
            try RecoveryPointError.capturing {
                let file = try FileDescriptor(opening: path, flags: O_RDONLY)
                let size = try file.size()
                guard (1 ... DiskLayout.maxSize).contains(size) else {
                    throw RecoveryPointError.invalidArgument("\(path): size \(size) is outside 1 byte...1 PiB")
                }
                return (file, size)
            }
        }
        let total = sources.reduce(UInt64(0)) { $0 + $1.1 }
        let done = Atomic<UInt64>(0)
        var statistics = WriteStatistics()
        var disks: [DiskLayout] = []
        var maps: [ChunkMap] = []
        for (number, (file, size)) in sources.enumerated() {
            let layout = DiskLayout(name: "disk\(number)", size: size, chunkSizeLog2: request.chunkSizeLog2)
            let (map, diskStatistics) = try writeDisk(file, layout: layout, keys: keys, store: store) { bytes in
                let sum = done.add(bytes, ordering: .relaxed).newValue
                progress?(sum, total)
            }
            disks.append(layout)
            maps.append(map)
            statistics.bytesRead += size
            statistics.holeChunks += diskStatistics.holeChunks
            statistics.newChunks += diskStatistics.newChunks
            statistics.reusedChunks += diskStatistics.reusedChunks
        }
        try store.syncChunks()

        let (header, sealed) = try RecoveryPointError.capturing {
            let now = Date().timeIntervalSince1970
            let header = PointHeader(
                id: try PointID.generate(at: UInt64(now * 1000)),
                created: Int64(now * 1_000_000_000), parent: request.parent, domain: keys.domain,
                manifestSalt: try Random.bytes(PointFormat.saltSize), guestEncryption: request.guestEncryption,
                sourceName: request.sourceName ?? String(request.images[0].split(separator: "/").last ?? ""),
                disks: disks, storedChunks: maps.map { UInt64($0.count) },
                wrappedKeys: [WrappedKey(kek: kek, algorithm: .rsaOAEPSHA256, bytes: wrapped)])
            guard header.sourceName.utf8.count <= PointFormat.maxSourceNameLength else {
                throw RecoveryPointError.invalidArgument("source name is longer than \(PointFormat.maxSourceNameLength) bytes")
            }
            return (header, try PointFile.seal(header: header, maps: maps, keys: keys))
        }
        try store.writePoint(header.id, bytes: sealed, replacing: false)
        return (header.id, statistics)
    }

    private static func writeDisk(_ file: FileDescriptor, layout: DiskLayout, keys: KeySchedule, store: some ChunkStore,
                                  advanced: @Sendable (UInt64) -> Void) throws(RecoveryPointError) -> (ChunkMap, WriteStatistics) {
        let found = Mutex<[(index: UInt64, id: ChunkID, isNew: Bool)]>([])
        let holes = Atomic<Int>(0)
        let chunkCount = Int(layout.chunkCount)
        let workers = ParallelWork.defaultWorkers
        // Each worker has an image chunk and its sealed object in hand at once.
        let pool = BufferPool(retaining: workers * 2 * ChunkObject.objectSize(plaintext: layout.chunkSize))
        try ParallelWork.forEach(count: chunkCount, workers: workers) { (position) throws(RecoveryPointError) in
            let index = UInt64(position)
            let range = layout.range(ofChunk: index)
            // A hole in a sparse image is a hole in the point: no read, no hashing.
            if (file.nextData(from: range.lowerBound) ?? range.upperBound) >= range.upperBound {
                holes.add(1, ordering: .relaxed)
                advanced(UInt64(range.count))
                return
            }
            let buffer = pool.take(range.count)
            defer { pool.give(buffer) }
            try RecoveryPointError.capturing {
                guard try file.read(at: range.lowerBound, into: buffer) == range.count else {
                    throw RecoveryPointError.invalidArgument("\(file.path) ended early at chunk \(index): was it truncated while being read?")
                }
            }
            defer { advanced(UInt64(range.count)) }
            let plaintext = UnsafeRawBufferPointer(buffer)
            if isAllZero(plaintext) {
                holes.add(1, ordering: .relaxed)
                return
            }
            try RecoveryPointError.capturing {
                let id = try keys.chunkID(of: plaintext)
                let isNew = try !store.hasChunk(id)
                if isNew {
                    try store.writeChunk(id, object: try ChunkObject.seal(plaintext, id: id, keys: keys, pool: pool))
                }
                found.withLock { $0.append((index, id, isNew)) }
            }
        }
        var map = ChunkMap()
        var statistics = WriteStatistics()
        statistics.holeChunks = holes.load(ordering: .relaxed)
        for entry in found.withLock({ $0 }).sorted(by: { $0.index < $1.index }) {
            map.append(index: entry.index, id: entry.id)
            if entry.isNew { statistics.newChunks += 1 } else { statistics.reusedChunks += 1 }
        }
        return (map, statistics)
    }

    /// True when every byte is zero: compares the buffer with itself shifted by one byte.
    static func isAllZero(_ buffer: UnsafeRawBufferPointer) -> Bool {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return true }
        return base.load(as: UInt8.self) == 0 && memcmp(base, base + 1, buffer.count - 1) == 0
    }
}
