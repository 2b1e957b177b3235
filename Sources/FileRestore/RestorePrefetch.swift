import PointNamespace
import VolumeModel

/// Loads the chunks of the files a restore writes next, a window ahead of the writer. Over a
/// remote store every chunk a file meets first costs a round trip, and a restore of many small
/// files meets them one after another; knowing its files in advance, it can ask for the next
/// ones in parallel. Does nothing where `PointNamespace.prefetchBytes` is 0 (a local store).
struct RestorePrefetch {
    private struct ChunkKey: Hashable {
        let disk: Int
        let chunk: UInt64
    }

    private let namespace: PointNamespace
    private let window: Int
    private let chunkBytes: Int
    /// The next item whose chunks are not asked for yet.
    private var next = 0
    /// Chunks asked for, with the item that first needed each, oldest first.
    private var ahead: [(item: Int, chunk: ChunkKey)] = []
    private var consumed = 0
    private var asked: Set<ChunkKey> = []

    init(namespace: PointNamespace) {
        self.namespace = namespace
        window = namespace.prefetchBytes
        chunkBytes = max(1, namespace.largestChunkSize)
    }

    /// The writer is at item `index`: keeps the chunks of the items after it asked for, up to
    /// the window. A file that cannot be placed is left to its own read, which reports it.
    mutating func advance(to index: Int, of items: [RestoreSelection.Item]) {
        guard window > 0 else { return }
        while consumed < ahead.count, ahead[consumed].item < index { consumed += 1 }
        while next < items.count, (ahead.count - consumed) * chunkBytes < window {
            let item = items[next]
            if item.attributes.kind == .regular, item.attributes.size > 0,
               let pieces = try? namespace.chunkPieces(of: item.node, path: item.pointPath).pieces {
                let fresh = pieces.filter { asked.insert(ChunkKey(disk: $0.disk, chunk: $0.chunk)).inserted }
                ahead += fresh.map { (next, ChunkKey(disk: $0.disk, chunk: $0.chunk)) }
                namespace.prefetch(fresh)
            }
            next += 1
        }
        if consumed > 4096 {
            ahead.removeFirst(consumed)
            consumed = 0
        }
    }
}
