import VolumeModel

/// NTFS times count 100 ns intervals since 1601-01-01 UTC.
enum NTFSTime {
    static let ticksPerSecond: Int64 = 10_000_000
    /// Seconds from 1601-01-01 to 1970-01-01.
    static let epochDifference: Int64 = 11_644_473_600

    /// Floor division keeps times before 1970 (and hostile negative values) exact, and
    /// neither step can overflow.
    static func timestamp(_ ticks: Int64) -> Timestamp {
        var seconds = ticks / ticksPerSecond
        var remainder = ticks % ticksPerSecond
        if remainder < 0 {
            seconds -= 1
            remainder += ticksPerSecond
        }
        return Timestamp(seconds: seconds - epochDifference, nanoseconds: UInt32(remainder) * 100)
    }
}
