import BlockDevices
import PointDisk
import RecoveryPoint
import VolumeModel

/// `length` bytes of a file from `fileOffset`, stored in chunk `chunk` of disk `disk` from
/// byte `offsetInChunk` of its plaintext.
public struct ChunkPiece: Sendable, Equatable {
    public let fileOffset: UInt64
    public let length: UInt64
    public let disk: Int
    public let chunk: UInt64
    public let offsetInChunk: UInt64

    public init(fileOffset: UInt64, length: UInt64, disk: Int, chunk: UInt64, offsetInChunk: UInt64) {
        self.fileOffset = fileOffset
        self.length = length
        self.disk = disk
        self.chunk = chunk
        self.offsetInChunk = offsetInChunk
    }
}

extension PointNamespace {
    /// Where a regular file's bytes lie in the point's chunks: its placement on the volume
    /// (from metadata only), followed down the device stack to the disks and cut at chunk
    /// boundaries, adjacent pieces of one chunk merged. What a catalog fingerprints a file
    /// by, and what tells which files a chunk holds.
    public func chunkPieces(of node: Node, path: String) throws(NamespaceError) -> (placement: FilePlacement, pieces: [ChunkPiece]) {
        guard case let .file(volume, _) = node else { throw .volume(path: path, .isADirectory(path)) }
        let placement = try withVolume(node, path: path) { reader, inner throws(VolumeError) in try reader.placement(of: inner) }
        let device = inventory.volumes[volume].device
        var pieces: [ChunkPiece] = []
        for run in placement.runs {
            let bottom: [DevicePiece]
            do {
                bottom = try device.bottomPieces(offset: run.volumeOffset, length: run.length)
            } catch {
                throw .device(path: path, error)
            }
            var fileOffset = run.fileOffset
            for piece in bottom {
                guard let disk = inventory.disks.firstIndex(where: { ($0.device as AnyObject) === (piece.device as AnyObject) }) else {
                    throw .device(path: path, .outOfRange(offset: piece.offset, count: Int(clamping: piece.length), size: piece.device.size))
                }
                Self.cut(piece, disk: disk, chunkSizeLog2: inventory.disks[disk].layout.chunkSizeLog2, fileOffset: fileOffset, into: &pieces)
                // The pieces below a run add up to its length, which lies inside the file.
                fileOffset += piece.length
            }
        }
        return (placement, pieces)
    }

    /// How many bytes of chunks a reader may have loading ahead of it through `prefetch`
    /// (the read-ahead window of the read policy); 0 when loading ahead does not pay: the
    /// point's chunks are not fetched over a network.
    public var prefetchBytes: Int {
        guard point.isRemote, let disk = inventory.disks.lazy.compactMap({ $0.device as? RecoveryPointDisk }).first else { return 0 }
        return disk.cache.policy.readAheadWindowBytes
    }

    /// Starts loading the chunks that hold `pieces`, ahead of the reads that will want them.
    public func prefetch(_ pieces: [ChunkPiece]) {
        for piece in pieces {
            guard piece.disk < inventory.disks.count, let disk = inventory.disks[piece.disk].device as? RecoveryPointDisk else { continue }
            disk.prefetch(piece.chunk)
        }
    }

    private static func cut(_ piece: DevicePiece, disk: Int, chunkSizeLog2: UInt8, fileOffset: UInt64, into pieces: inout [ChunkPiece]) {
        let chunkSize = UInt64(1) << UInt64(chunkSizeLog2)
        var offset = piece.offset
        var done: UInt64 = 0
        while done < piece.length {
            let chunk = offset >> UInt64(chunkSizeLog2)
            let inChunk = offset & (chunkSize - 1)
            let count = min(piece.length - done, chunkSize - inChunk)
            let next = ChunkPiece(fileOffset: fileOffset + done, length: count, disk: disk, chunk: chunk, offsetInChunk: inChunk)
            if let last = pieces.last, last.disk == disk, last.chunk == chunk,
               last.offsetInChunk + last.length == inChunk, last.fileOffset + last.length == next.fileOffset {
                pieces[pieces.count - 1] = ChunkPiece(fileOffset: last.fileOffset, length: last.length + count, disk: disk,
                                                      chunk: chunk, offsetInChunk: last.offsetInChunk)
            } else {
                pieces.append(next)
            }
            done += count
            offset += count
        }
    }
}
