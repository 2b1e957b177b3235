import VolumeModel

extension NTFSVolume {
    /// The unnamed $DATA's clusters in bytes (below the initialized size: past it the file
    /// reads as zeros whatever the clusters hold), its resident bytes, or its compression
    /// units as stored. A WOF-compressed file has no placement yet: its chunks' offsets are
    /// in its compressed stream, which a fingerprint would have to cover in its own encoding.
    public func placement(of node: UInt64) throws(VolumeError) -> FilePlacement {
        let stream: DataStream
        switch try readableContent(node) {
        case let .stream(data): stream = data
        case .wof: throw .unsupported("\(name): record \(node) is WOF-compressed: where its bytes lie is not recorded")
        }
        switch stream.storage {
        case let .resident(bytes):
            return FilePlacement(size: stream.dataSize, runs: [], inline: Array(bytes.prefix(Int(clamping: stream.dataSize))))
        case let .runs(map):
            guard stream.compressionUnit != 0 else {
                let limit = min(stream.dataSize, stream.initializedSize)
                return FilePlacement(size: stream.dataSize, runs: FilePlacement.runs(of: map, below: limit))
            }
            // DataStream.merge checked that a unit's bytes fit in 64 bits.
            let unitBytes = stream.compressionUnit * clusterSize
            return FilePlacement(size: stream.dataSize, runs: FilePlacement.runs(of: map, below: map.mappedBytes),
                                 encoding: .lznt1(unitBytes: unitBytes, initializedSize: stream.initializedSize))
        }
    }
}
