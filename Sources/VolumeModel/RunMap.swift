/// One piece of a file's map: `count` units from logical unit `logical`, stored from
/// physical unit `physical` on the volume, or read as zeros when `physical` is nil (a hole,
/// an unwritten or uninitialized extent).
public struct MappedRun: Sendable, Equatable {
    public let logical: UInt64
    public let count: UInt64
    public let physical: UInt64?

    public init(logical: UInt64, count: UInt64, physical: UInt64?) {
        self.logical = logical
        self.count = count
        self.physical = physical
    }

    /// The logical unit after the run.
    public var end: UInt64 { logical + count }
}

/// A run, or the hole between runs, met while walking a range of units.
public struct MappedSegment: Sendable, Equatable {
    /// The first physical unit, nil for zeros (a hole, an unwritten run, or no run at all).
    public let physical: UInt64?
    public let count: UInt64

    public init(physical: UInt64?, count: UInt64) {
        self.physical = physical
        self.count = count
    }
}

/// Where a file's bytes are on a volume, in units of a block or cluster: runs sorted by
/// logical unit and disjoint, each with a byte extent (logical and physical) that fits 64 bits.
/// `init` checks all of that, so every product and sum below is in range.
public struct RunMap: Sendable {
    /// What units no run covers are.
    public enum Unmapped: Sendable {
        /// Holes: they read as zeros (ext4 leaves unmapped blocks out of its map).
        case zeros
        /// Corruption: the format maps every unit of a stream (NTFS stores its holes as runs).
        case corrupt
    }

    public let runs: [MappedRun]
    /// Bytes per unit (the block or cluster size).
    public let unitSize: UInt64
    public let unmapped: Unmapped

    public init(_ runs: [MappedRun], unitSize: UInt64, unmapped: Unmapped) throws(RunMapError) {
        guard unitSize > 0 else { throw .zeroUnitSize }
        var next: UInt64 = 0
        for run in runs {
            guard run.count > 0 else { throw .emptyRun(logical: run.logical) }
            guard run.logical >= next else { throw .outOfOrder(logical: run.logical, expectedFrom: next) }
            guard Self.fits(run.logical, run.count, unitSize),
                  run.physical.map({ Self.fits($0, run.count, unitSize) }) ?? true else {
                throw .tooLarge(logical: run.logical, count: run.count, unitSize: unitSize)
            }
            next = run.end
        }
        self.runs = runs
        self.unitSize = unitSize
        self.unmapped = unmapped
    }

    /// Whether the bytes of `count` units from `first` lie below 2^64.
    private static func fits(_ first: UInt64, _ count: UInt64, _ unitSize: UInt64) -> Bool {
        let (end, overflow) = first.addingReportingOverflow(count)
        return !overflow && !end.multipliedReportingOverflow(by: unitSize).overflow
    }

    /// The byte after the last mapped unit (0 with no runs).
    public var mappedBytes: UInt64 { (runs.last?.end ?? 0) * unitSize }

    /// Index of the first run whose end lies after `unit` (binary search).
    public func firstRun(endingAfter unit: UInt64) -> Int {
        var low = 0
        var high = runs.count
        while low < high {
            let middle = low + (high - low) / 2
            if runs[middle].end <= unit { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Where logical byte `offset` lies on the volume; nil where it reads as zeros.
    public func deviceOffset(of offset: UInt64) -> UInt64? {
        let index = firstRun(endingAfter: offset / unitSize)
        guard index < runs.count, runs[index].logical * unitSize <= offset, let physical = runs[index].physical else { return nil }
        return physical * unitSize + (offset - runs[index].logical * unitSize)
    }

    /// The mapping of `count` units from logical unit `first`: stored pieces and zeros in
    /// order, units no run covers as zeros.
    public func segments(from first: UInt64, count: UInt64) -> [MappedSegment] {
        var result: [MappedSegment] = []
        var unit = first
        let (sum, overflow) = first.addingReportingOverflow(count)
        let end = overflow ? UInt64.max : sum
        var index = firstRun(endingAfter: first)
        while unit < end {
            guard index < runs.count, runs[index].logical <= unit else {
                let holeEnd = index < runs.count ? min(end, runs[index].logical) : end
                result.append(MappedSegment(physical: nil, count: holeEnd - unit))
                unit = holeEnd
                continue
            }
            let run = runs[index]
            let pieceEnd = min(end, run.end)
            result.append(MappedSegment(physical: run.physical.map { $0 + (unit - run.logical) }, count: pieceEnd - unit))
            unit = pieceEnd
            index += 1
        }
        return result
    }

    /// The byte ranges below `limit` that stored runs map, adjacent ones merged.
    public func dataRanges(below limit: UInt64) -> [Range<UInt64>] {
        var ranges = DataRanges(limit: limit)
        for run in runs where run.physical != nil {
            let start = run.logical * unitSize
            guard start < limit else { break }
            ranges.add(start ..< run.end * unitSize)
        }
        return ranges.ranges
    }
}

/// Why runs cannot form a `RunMap`.
public enum RunMapError: Error, Sendable, Equatable, CustomStringConvertible {
    case zeroUnitSize
    case emptyRun(logical: UInt64)
    case outOfOrder(logical: UInt64, expectedFrom: UInt64)
    case tooLarge(logical: UInt64, count: UInt64, unitSize: UInt64)

    public var description: String {
        switch self {
        case .zeroUnitSize:
            "a unit size of 0 bytes"
        case let .emptyRun(logical):
            "run of length 0 at logical unit \(logical)"
        case let .outOfOrder(logical, expectedFrom):
            "runs out of order or overlapping at logical unit \(logical) (expected \(expectedFrom) or later)"
        case let .tooLarge(logical, count, unitSize):
            "run of \(count) units at logical unit \(logical) reaches past 2^64 bytes (\(unitSize)-byte units)"
        }
    }
}
