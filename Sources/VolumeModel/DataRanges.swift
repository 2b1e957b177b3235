/// The byte ranges of a file that hold data (what `Volume.dataRanges` and SEEK_DATA report):
/// added in order, clipped to a limit (the file's size), adjacent ones merged.
public struct DataRanges: Sendable {
    public private(set) var ranges: [Range<UInt64>] = []
    public let limit: UInt64

    public init(limit: UInt64) {
        self.limit = limit
    }

    /// Adds `range`, which starts at or after the end of the last one added.
    public mutating func add(_ range: Range<UInt64>) {
        let end = min(range.upperBound, limit)
        guard range.lowerBound < end else { return }
        if let last = ranges.last, last.upperBound == range.lowerBound {
            ranges[ranges.count - 1] = last.lowerBound ..< end
        } else {
            ranges.append(range.lowerBound ..< end)
        }
    }
}
