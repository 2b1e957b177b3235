#if canImport(Glibc)
import Glibc
#endif

/// How often and how long a failed request is tried again: on a dropped, reset or stalled
/// connection, on 5xx and on 429 (S3's SlowDown is a 503), with exponential backoff and full
/// jitter, bounded in attempts and in total time. Other answers (403, 404, ...) are final.
public struct RetryPolicy: Sendable {
    public var maxAttempts = 5
    public var baseDelay = 0.2
    public var maxDelay = 5.0
    /// No new attempt starts once this many seconds have passed since the first.
    public var maxTotal = 60.0

    public init() {}

    /// The pause before attempt `attempt + 1` (attempt counts from 1): a random time up to
    /// base * 2^(attempt-1), capped.
    func delay(after attempt: Int) -> Double {
        let ceiling = min(maxDelay, baseDelay * Double(1 << min(attempt - 1, 20)))
        return Double.random(in: 0 ... ceiling)
    }

    static func isRetryable(status: Int) -> Bool {
        status == 429 || (500 ... 599).contains(status)
    }

    static func sleep(seconds: Double) {
        var remaining = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        while true {
            var request = remaining
            guard nanosleep(&request, &remaining) != 0, errno == EINTR else { return }
        }
    }
}
