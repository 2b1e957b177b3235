import RecoveryPoint

/// What a `--store` value names: a local directory, an S3 bucket and prefix, or an HTTP(S)
/// prefix URL whose query (an Azure SAS, a presigned signature) goes on every object's URL.
public enum StoreAddress: Sendable, Equatable {
    case directory(String)
    case s3(bucket: String, prefix: String)
    /// `base` has no trailing slash and no query.
    case http(base: String, query: String?)

    /// Throws `unsupported` for a URL rpfs cannot use: an unknown scheme, an empty bucket or host.
    public init(parsing text: String) throws(ObjectStoreError) {
        guard let schemeEnd = text.firstRange(of: "://"), Self.isScheme(text[..<schemeEnd.lowerBound]) else {
            self = .directory(text)
            return
        }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        let rest = text[schemeEnd.upperBound...]
        switch scheme {
        case "s3":
            let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            let bucket = String(parts[0])
            guard !bucket.isEmpty, bucket.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-._".contains($0)) }) else {
                throw ObjectStoreError(.unsupported, store: text, object: nil, "'\(bucket)' is not a bucket name (letters, digits, '-', '.', '_')")
            }
            let prefix = parts.count > 1 ? parts[1].split(separator: "/").joined(separator: "/") : ""
            self = .s3(bucket: bucket, prefix: prefix)
        case "http", "https":
            let (path, query) = Self.splitQuery(rest)
            guard let host = path.split(separator: "/", omittingEmptySubsequences: false).first, !host.isEmpty else {
                throw ObjectStoreError(.unsupported, store: Self.redacted(text), object: nil, "no host in the URL")
            }
            var base = "\(scheme)://\(path)"
            while base.hasSuffix("/") { base.removeLast() }
            self = .http(base: base, query: query)
        default:
            throw ObjectStoreError(.unsupported, store: Self.redacted(text), object: nil,
                                   "unknown scheme '\(scheme)': a store is a directory, s3://BUCKET[/PREFIX], or an http(s):// URL")
        }
    }

    /// How messages show the store: a URL's query values and any password are left out.
    public var display: String {
        switch self {
        case let .directory(path): path
        case let .s3(bucket, prefix): prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix)"
        case let .http(base, query): Self.redacted(base + (query.map { "?\($0)" } ?? ""))
        }
    }

    /// `text` with every query value and any user-info password replaced by "…".
    static func redacted(_ text: String) -> String {
        let (path, query) = splitQuery(text[...])
        var shown = String(path)
        if let at = shown.firstIndex(of: "@"), let schemeEnd = shown.firstRange(of: "://"), schemeEnd.upperBound < at {
            shown = String(shown[..<schemeEnd.upperBound]) + "…" + String(shown[at...])
        }
        guard let query else { return shown }
        let names = query.split(separator: "&").map { $0.split(separator: "=", maxSplits: 1).first.map { "\($0)=…" } ?? "…" }
        return shown + "?" + names.joined(separator: "&")
    }

    private static func splitQuery(_ text: Substring) -> (Substring, String?) {
        guard let mark = text.firstIndex(of: "?") else { return (text, nil) }
        let query = text[text.index(after: mark)...]
        return (text[..<mark], query.isEmpty ? nil : String(query))
    }

    private static func isScheme(_ text: Substring) -> Bool {
        guard let first = text.first, first.isASCII, first.isLetter else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }
    }
}
