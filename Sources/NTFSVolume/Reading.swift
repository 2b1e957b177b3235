import BlockDevices
import ByteParsing
import VolumeModel

extension NTFSVolume {
    /// Reads a whole stream (attribute lists, reparse data, $UpCase, small named streams).
    func readAll(_ stream: DataStream, _ what: String, limit: UInt64 = 4 << 20) throws(VolumeError) -> [UInt8] {
        guard stream.dataSize <= limit else {
            throw corrupt(what, "holds \(stream.dataSize) bytes, over the \(limit)-byte limit for it")
        }
        return try readBytes(stream, at: 0, count: Int(stream.dataSize), what)
    }

    /// `count` bytes of a stream from `offset` (fewer only at the stream's end); the caller
    /// bounds `count`.
    func readBytes(_ stream: DataStream, at offset: UInt64, count: Int, _ what: String) throws(VolumeError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let read = try bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(VolumeError) in try self.read(stream, at: offset, into: buffer, what) }
        }.get()
        return Array(bytes.prefix(read))
    }

    /// Copies stream bytes from `offset`: resident bytes, mapped clusters straight from the
    /// device, zeros for holes and for everything past the initialized size, LZNT1 units
    /// expanded. Returns the count (fewer only at the end of the stream).
    func read(_ stream: DataStream, at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer, _ what: String) throws(VolumeError) -> Int {
        guard offset < stream.dataSize, buffer.count > 0 else { return 0 }
        let count = Int(min(UInt64(buffer.count), stream.dataSize - offset))
        let end = offset + UInt64(count)
        switch stream.storage {
        case let .resident(bytes):
            let from = Int(offset)
            bytes.withUnsafeBytes { source in
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[from ..< from + count]))
            }
        case let .runs(map):
            // Bytes past the initialized size were never written: zeros, whatever the clusters hold.
            let dataEnd = min(end, max(stream.initializedSize, offset))
            let dataCount = Int(dataEnd - offset)
            let target = UnsafeMutableRawBufferPointer(rebasing: buffer[0 ..< dataCount])
            if stream.compressionUnit != 0 {
                try readCompressed(map, unit: stream.compressionUnit, from: offset, to: dataEnd, into: target, what)
            } else {
                try map.read(at: offset, into: target, from: device, volume: name, what: what)
            }
            UnsafeMutableRawBufferPointer(rebasing: buffer[dataCount ..< count]).initializeMemory(as: UInt8.self, repeating: 0)
        }
        return count
    }

    /// Where stream byte `offset` lies on the volume, for error messages; nil in a hole.
    func deviceOffset(_ stream: DataStream, _ offset: UInt64) -> UInt64? {
        guard case let .runs(map) = stream.storage else { return nil }
        return map.deviceOffset(of: offset)
    }

    /// Compressed streams work in units (16 clusters): a unit fully mapped is stored raw, a
    /// unit with no clusters is a hole, and a unit with some clusters then a hole holds
    /// LZNT1 data in those clusters.
    private func readCompressed(_ map: RunMap, unit: UInt64, from start: UInt64, to end: UInt64,
                                into buffer: UnsafeMutableRawBufferPointer, _ what: String) throws(VolumeError) {
        let unitBytes = unit * clusterSize
        var position = start
        while position < end {
            let unitIndex = position / unitBytes
            let unitStart = unitIndex * unitBytes
            let pieceEnd = min(end, unitStart + unitBytes)
            let slice = Int(position - start)
            let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[slice ..< slice + Int(pieceEnd - position)])
            let segments = map.segments(from: unitIndex * unit, count: unit)
            let mapped = segments.reduce(UInt64(0)) { $0 + ($1.physical == nil ? 0 : $1.count) }
            if mapped == unit {
                try map.read(at: position, into: piece, from: device, volume: name, what: what)
            } else if mapped == 0 {
                piece.initializeMemory(as: UInt8.self, repeating: 0)
            } else {
                // The unit's stored clusters, in order, hold its LZNT1 stream.
                var compressed = [UInt8](repeating: 0, count: Int(mapped * clusterSize))
                try compressed.withUnsafeMutableBytes { bytes in
                    Result { () throws(VolumeError) in
                        var filled = 0
                        for segment in segments {
                            guard let physical = segment.physical else { continue }
                            let length = Int(segment.count * clusterSize)
                            try VolumeRead.read(device, at: physical * clusterSize, into: UnsafeMutableRawBufferPointer(rebasing: bytes[filled ..< filled + length]),
                                                volume: name, purpose: what)
                            filled += length
                        }
                    }
                }.get()
                let expanded: [UInt8]
                do {
                    expanded = try LZNT1.decompress(compressed, limit: Int(unitBytes), origin: 0)
                } catch {
                    throw corrupt(what, "compression unit \(unitIndex) (stream byte \(unitStart)): \(error)")
                }
                let from = Int(position - unitStart)
                let available = max(0, min(expanded.count - from, piece.count))
                if available > 0 {
                    expanded.withUnsafeBytes { source in
                        piece.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[from ..< from + available]))
                    }
                }
                // A unit that expands to less than its size ends in zeros.
                UnsafeMutableRawBufferPointer(rebasing: piece[available...]).initializeMemory(as: UInt8.self, repeating: 0)
            }
            position = pieceEnd
        }
    }

    /// The byte ranges of a stream that hold data: mapped clusters (whole compression units
    /// when compressed) below the initialized size.
    func dataRanges(of stream: DataStream) -> [Range<UInt64>] {
        let limit = stream.initializedSize
        guard limit > 0 else { return [] }
        guard case let .runs(map) = stream.storage else { return [0 ..< limit] }
        guard stream.compressionUnit != 0 else { return map.dataRanges(below: limit) }
        var ranges = DataRanges(limit: limit)
        let unitBytes = stream.compressionUnit * clusterSize
        var unitIndex: UInt64 = 0
        while unitIndex * unitBytes < limit {
            let segments = map.segments(from: unitIndex * stream.compressionUnit, count: stream.compressionUnit)
            if segments.contains(where: { $0.physical != nil }) { ranges.add(unitIndex * unitBytes ..< (unitIndex + 1) * unitBytes) }
            unitIndex += 1
        }
        return ranges.ranges
    }
}
