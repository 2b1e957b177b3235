import Cryptography
import Pools
import Synchronization

/// `rpfs verify`: reads and authenticates every stored chunk of a point, and checks that
/// each plaintext still hashes to its id. The answer to "will this backup restore?".
public enum Verifier {
    public struct Report: Sendable {
        public var chunksChecked = 0
        public var bytesChecked: UInt64 = 0
        /// Every chunk that is missing, damaged or unreadable, in disk order.
        public var problems: [Problem] = []
    }

    /// Chunk `index` of disk `disk` (its index in the point's header) and what is wrong with it.
    public struct Problem: Sendable, CustomStringConvertible {
        public let disk: Int
        public let index: UInt64
        public let error: RecoveryPointError

        public var description: String { error.description }
    }

    public static func verify(_ point: OpenedPoint, progress: (@Sendable (_ done: UInt64, _ total: UInt64) -> Void)? = nil) -> Report {
        let work = point.maps.enumerated().flatMap { disk, map in map.entries.map { (disk: disk, index: $0.index, id: $0.id) } }
        let total = work.reduce(UInt64(0)) { $0 + UInt64(point.header.disks[$1.disk].range(ofChunk: $1.index).count) }
        let done = Atomic<UInt64>(0)
        let problems = Mutex<[(Int, Problem)]>([])
        let workers = ParallelWork.defaultWorkers
        let largest = point.header.disks.map(\.chunkSize).max() ?? 0
        let pool = BufferPool(retaining: workers * ChunkObject.objectSize(plaintext: largest))
        // Errors are collected, not thrown: verify reports every damaged chunk.
        ParallelWork.forEach(count: work.count, workers: workers) { position in
            let item = work[position]
            let length = UInt64(point.header.disks[item.disk].range(ofChunk: item.index).count)
            defer { progress?(done.add(length, ordering: .relaxed).newValue, total) }
            do throws(RecoveryPointError) {
                let chunk = try point.chunk(disk: item.disk, index: item.index, id: item.id, once: true, pool: pool)
                let actual: ChunkID
                do throws(CryptoError) {
                    actual = try point.keys.chunkID(of: chunk.payload)
                } catch {
                    throw RecoveryPointError.crypto(error)
                }
                guard actual == item.id else {
                    throw RecoveryPointError.chunkDamaged(point.location(disk: item.disk, index: item.index, id: item.id),
                                                          reason: "decrypts but does not hash to its id (written wrongly)")
                }
            } catch {
                problems.withLock { $0.append((position, Problem(disk: item.disk, index: item.index, error: error))) }
            }
        }
        var report = Report()
        report.chunksChecked = work.count
        report.bytesChecked = total
        report.problems = problems.withLock { $0 }.sorted { $0.0 < $1.0 }.map(\.1)
        return report
    }
}
