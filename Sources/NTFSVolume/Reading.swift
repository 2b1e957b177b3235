import BlockDevices
import ByteParsing
import VolumeModel

extension NTFSVolume {
    /// Reads a whole stream (attribute lists, reparse data, $UpCase, small named streams).
    func readAll(_ stream: DataStream, _ what: String, limit: UInt64 = 4 << 20) throws(VolumeError) -> [UInt8] {
        guard stream.dataSize <= limit else {
            throw .corrupt("\(name): \(what) holds \(stream.dataSize) bytes, over the \(limit)-byte limit for it")
        }
        var bytes = [UInt8](repeating: 0, count: Int(stream.dataSize))
        let count = try bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(VolumeError) in try read(stream, at: 0, into: buffer, what) }
        }.get()
        return Array(bytes.prefix(count))
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
        case let .runs(runs):
            // Bytes past the initialized size were never written: zeros, whatever the clusters hold.
            let dataEnd = min(end, max(stream.initializedSize, offset))
            let dataCount = Int(dataEnd - offset)
            let target = UnsafeMutableRawBufferPointer(rebasing: buffer[0 ..< dataCount])
            if stream.compressionUnit != 0 {
                try readCompressed(runs, unit: stream.compressionUnit, from: offset, to: dataEnd, into: target, what)
            } else {
                try readRuns(runs, from: offset, to: dataEnd, into: target, what)
            }
            UnsafeMutableRawBufferPointer(rebasing: buffer[dataCount ..< count]).initializeMemory(as: UInt8.self, repeating: 0)
        }
        return count
    }

    /// Where stream byte `offset` lies on the volume, for error messages; nil in a hole.
    func deviceOffset(_ stream: DataStream, _ offset: UInt64) -> UInt64? {
        guard case let .runs(runs) = stream.storage else { return nil }
        let index = Self.firstRun(in: runs, endingAfter: offset / clusterSize)
        guard index < runs.count, runs[index].vcn.value * clusterSize <= offset, let lcn = runs[index].lcn else { return nil }
        return lcn.value * clusterSize + (offset - runs[index].vcn.value * clusterSize)
    }

    /// Runs are sorted, contiguous and their end VCN times the cluster size fits (checked by
    /// `DataStream.merge`); LCNs are below `clusterCount` (checked by `DataRuns.parse`), so
    /// the products below cannot overflow.
    private func readRuns(_ runs: [DataRun], from start: UInt64, to end: UInt64, into buffer: UnsafeMutableRawBufferPointer, _ what: String) throws(VolumeError) {
        var position = start
        var index = Self.firstRun(in: runs, endingAfter: start / clusterSize)
        while position < end {
            let slice = Int(position - start)
            guard index < runs.count else {
                throw .corrupt("\(name): \(what): byte \(position) is past the clusters its runs map")
            }
            let run = runs[index]
            let runStart = run.vcn.value * clusterSize
            let runEnd = run.endVCN * clusterSize
            let pieceEnd = min(end, runEnd)
            let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[slice ..< slice + Int(pieceEnd - position)])
            if let lcn = run.lcn {
                let deviceOffset = lcn.value * clusterSize + (position - runStart)
                do {
                    try device.read(at: deviceOffset, into: piece)
                } catch {
                    throw dataError(error, deviceOffset, piece.count, what)
                }
            } else {
                piece.initializeMemory(as: UInt8.self, repeating: 0)
            }
            position = pieceEnd
            index += 1
        }
    }

    /// Compressed streams work in units (16 clusters): a unit fully mapped is stored raw, a
    /// unit with no clusters is a hole, and a unit with some clusters then a hole holds
    /// LZNT1 data in those clusters.
    private func readCompressed(_ runs: [DataRun], unit: UInt64, from start: UInt64, to end: UInt64,
                                into buffer: UnsafeMutableRawBufferPointer, _ what: String) throws(VolumeError) {
        let unitBytes = unit * clusterSize
        var position = start
        while position < end {
            let unitIndex = position / unitBytes
            let unitStart = unitIndex * unitBytes
            let pieceEnd = min(end, unitStart + unitBytes)
            let slice = Int(position - start)
            let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[slice ..< slice + Int(pieceEnd - position)])
            let segments = Self.segments(of: runs, from: unitIndex * unit, count: unit)
            let mapped = segments.reduce(UInt64(0)) { $0 + ($1.lcn == nil ? 0 : $1.length) }
            if mapped == unit {
                try readRuns(runs, from: position, to: pieceEnd, into: piece, what)
            } else if mapped == 0 {
                piece.initializeMemory(as: UInt8.self, repeating: 0)
            } else {
                var compressed: [UInt8] = []
                compressed.reserveCapacity(Int(mapped * clusterSize))
                for segment in segments {
                    guard let lcn = segment.lcn else { continue }
                    let offset = lcn.value * clusterSize
                    do {
                        compressed += try device.read(at: offset, count: Int(segment.length * clusterSize))
                    } catch {
                        throw dataError(error, offset, Int(segment.length * clusterSize), what)
                    }
                }
                let expanded: [UInt8]
                do {
                    expanded = try LZNT1.decompress(compressed, limit: Int(unitBytes), origin: 0)
                } catch {
                    throw .corrupt("\(name): \(what): compression unit \(unitIndex) (stream byte \(unitStart)): \(error)")
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

    /// The mapping of `count` clusters from VCN `first`: stored pieces and holes in order;
    /// clusters past the runs count as holes.
    static func segments(of runs: [DataRun], from first: UInt64, count: UInt64) -> [(lcn: LCN?, length: UInt64)] {
        var result: [(lcn: LCN?, length: UInt64)] = []
        var vcn = first
        let end = first + count
        var index = firstRun(in: runs, endingAfter: first)
        while vcn < end {
            guard index < runs.count, runs[index].vcn.value <= vcn else {
                let holeEnd = index < runs.count ? min(end, runs[index].vcn.value) : end
                result.append((nil, holeEnd - vcn))
                vcn = holeEnd
                continue
            }
            let run = runs[index]
            let pieceEnd = min(end, run.endVCN)
            result.append((run.lcn.map { LCN($0.value + (vcn - run.vcn.value)) }, pieceEnd - vcn))
            vcn = pieceEnd
            index += 1
        }
        return result
    }

    /// The byte ranges of a stream that hold data: mapped clusters (whole compression units
    /// when compressed) below the initialized size.
    func dataRanges(of stream: DataStream) -> [Range<UInt64>] {
        let limit = stream.initializedSize
        guard limit > 0 else { return [] }
        guard case let .runs(runs) = stream.storage else { return [0 ..< limit] }
        var ranges: [Range<UInt64>] = []
        func add(_ start: UInt64, _ end: UInt64) {
            let end = min(end, limit)
            guard start < end else { return }
            if let last = ranges.last, last.upperBound == start {
                ranges[ranges.count - 1] = last.lowerBound ..< end
            } else {
                ranges.append(start ..< end)
            }
        }
        if stream.compressionUnit != 0 {
            let unitBytes = stream.compressionUnit * clusterSize
            var unitIndex: UInt64 = 0
            while unitIndex * unitBytes < limit {
                let segments = Self.segments(of: runs, from: unitIndex * stream.compressionUnit, count: stream.compressionUnit)
                if segments.contains(where: { $0.lcn != nil }) { add(unitIndex * unitBytes, (unitIndex + 1) * unitBytes) }
                unitIndex += 1
            }
        } else {
            for run in runs where run.lcn != nil {
                add(run.vcn.value * clusterSize, run.endVCN * clusterSize)
            }
        }
        return ranges
    }

    /// Index of the first run whose end lies after `vcn` (binary search).
    static func firstRun(in runs: [DataRun], endingAfter vcn: UInt64) -> Int {
        var low = 0
        var high = runs.count
        while low < high {
            let middle = low + (high - low) / 2
            if runs[middle].endVCN <= vcn { low = middle + 1 } else { high = middle }
        }
        return low
    }

    func dataError(_ error: DiskReadError, _ offset: UInt64, _ count: Int, _ what: String) -> VolumeError {
        switch error {
        case .outOfRange:
            .corrupt("\(name): \(what): data at volume byte \(offset) (\(count) bytes) lies outside the volume (\(error))")
        case .source, .io:
            .device(error)
        }
    }
}
