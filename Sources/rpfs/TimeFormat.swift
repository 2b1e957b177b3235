#if canImport(Glibc)
import Glibc
#endif
import VolumeModel

/// How rpfs shows a point in time: RFC 3339 in UTC with nanoseconds, e.g.
/// 2026-11-23T12:15:26.123456789Z (JSON, inspect), or to the minute for `ls -l`.
enum TimeFormat {
    static func rfc3339(_ time: Timestamp) -> String {
        rfc3339(seconds: time.seconds, nanoseconds: time.nanoseconds)
    }

    /// A time counted in nanoseconds since 1970 (a point's creation).
    static func rfc3339(nanosecondsSinceEpoch nanoseconds: Int64) -> String {
        let split = nanoseconds.quotientAndRemainder(dividingBy: 1_000_000_000)
        let (seconds, fraction) = split.remainder < 0 ? (split.quotient - 1, split.remainder + 1_000_000_000) : split
        return rfc3339(seconds: seconds, nanoseconds: UInt32(fraction))
    }

    static func rfc3339(seconds: Int64, nanoseconds: UInt32) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(cFormat: "%04ld-%02ld-%02ldT%02ld:%02ld:%02ld.%09ldZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(nanoseconds))
    }

    /// "2026-11-23 12:15" in UTC, for ls -l.
    static func minutes(_ time: Timestamp) -> String {
        String(rfc3339(time).prefix(16).map { $0 == "T" ? " " : $0 })
    }
}
