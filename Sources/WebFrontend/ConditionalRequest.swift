/// What a GET or HEAD of a file answers given its validators and the request's conditional
/// headers (RFC 9110 13, 14): not modified, the whole file, one range, or a range that cannot
/// be satisfied. Several ranges in one request get the whole file (allowed, and simpler for
/// every client than multipart/byteranges).
enum ConditionalRequest: Equatable {
    case notModified
    case whole
    case range(ClosedRange<UInt64>)
    case unsatisfiable

    struct Headers {
        var ifNoneMatch: String?
        var ifModifiedSince: String?
        var range: String?
        var ifRange: String?
    }

    static func evaluate(_ headers: Headers, etag: String, modified: Int64, size: UInt64) -> ConditionalRequest {
        if let ifNoneMatch = headers.ifNoneMatch {
            let tags = ifNoneMatch.split(separator: ",").map { $0.trimmingWhitespace() }
            // Weak comparison: W/"x" matches "x".
            if tags.contains(where: { $0 == "*" || $0 == etag || $0 == "W/" + etag }) { return .notModified }
        } else if let since = headers.ifModifiedSince.flatMap(WebText.parseHTTPDate), modified <= since {
            return .notModified
        }
        guard let range = headers.range else { return .whole }
        if let ifRange = headers.ifRange?.trimmingWhitespace() {
            // Strong comparison for an entity tag; a date must be the Last-Modified exactly.
            let matches = ifRange.hasPrefix("\"") ? ifRange == etag : WebText.parseHTTPDate(ifRange) == modified
            guard matches else { return .whole }
        }
        return parseRange(range, size: size)
    }

    /// "bytes=FIRST-LAST", "bytes=FIRST-" or "bytes=-SUFFIX"; anything else is ignored (the
    /// whole file), as RFC 9110 14.2 allows.
    static func parseRange(_ text: String, size: UInt64) -> ConditionalRequest {
        let value = text.trimmingWhitespace()
        guard value.hasPrefix("bytes="), !value.contains(",") else { return .whole }
        let spec = value.dropFirst(6).trimmingWhitespace()
        guard let dash = spec.firstIndex(of: "-") else { return .whole }
        let first = spec[..<dash], last = spec[spec.index(after: dash)...]
        if first.isEmpty {
            guard let suffix = UInt64(last) else { return .whole }
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .range((size - min(suffix, size)) ... (size - 1))
        }
        guard let start = UInt64(first) else { return .whole }
        let end: UInt64
        if last.isEmpty {
            end = size &- 1
        } else {
            guard let parsed = UInt64(last), parsed >= start else { return .whole }
            end = min(parsed, size &- 1)
        }
        guard start < size else { return .unsatisfiable }
        return .range(start ... end)
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
