import ByteParsing
import Cryptography

/// How a remote store names its objects, and what it can do: the one difference between an
/// S3 bucket and a plain web server, everything else being `RemoteStore`'s.
protocol ObjectService: Sendable {
    /// The store as messages show it (no signature, no token).
    var display: String { get }
    /// The URL of the object at `key` (relative to the store: "chunks/ab/…").
    func url(_ key: String) -> String
    /// Headers every request carries (a session token).
    var headers: [String] { get }
    /// Headers a PUT of `body` carries besides those.
    func headers(forBody body: UnsafeRawBufferPointer) -> [String]
    var canWrite: Bool { get }
    /// The URL of a listing page of the objects under `prefix` (S3 ListObjectsV2); nil when
    /// the service cannot list.
    func listURL(prefix: String, continuation: String?) -> String?
    /// A key as a listing names it, relative to the store.
    func storeKey(listed key: String) -> String
}

/// An S3 bucket (Amazon S3, or a compatible server at a custom endpoint), signed with
/// Signature V4 by libcurl.
struct S3Service: ObjectService {
    let bucket: String
    let prefix: String
    let settings: AWSSettings

    var display: String { StoreAddress.s3(bucket: bucket, prefix: prefix).display }

    /// Path-style at a custom endpoint (what MinIO, Ceph and rclone expect), virtual-hosted at AWS.
    private var bucketURL: String {
        if var endpoint = settings.endpoint {
            while endpoint.hasSuffix("/") { endpoint.removeLast() }
            return "\(endpoint)/\(Self.encode(bucket))"
        }
        return "https://\(bucket).s3.\(settings.region).amazonaws.com"
    }

    private func fullKey(_ key: String) -> String { prefix.isEmpty ? key : "\(prefix)/\(key)" }

    func url(_ key: String) -> String {
        "\(bucketURL)/" + fullKey(key).split(separator: "/", omittingEmptySubsequences: false).map { Self.encode(String($0)) }.joined(separator: "/")
    }

    var headers: [String] {
        settings.credentials?.sessionToken.map { ["x-amz-security-token: \($0)"] } ?? []
    }

    var canWrite: Bool { true }

    /// The payload's SHA-256, which SigV4 signs: libcurl leaves it out of a request with a body.
    func headers(forBody body: UnsafeRawBufferPointer) -> [String] {
        guard let hasher = try? SHA256Hasher() else { return [] }
        hasher.update(body)
        return ["x-amz-content-sha256: \(Hex.encode(hasher.finish()))"]
    }

    func listURL(prefix listed: String, continuation: String?) -> String? {
        var query = "list-type=2&prefix=\(Self.encode(fullKey(listed)))"
        if let continuation { query += "&continuation-token=\(Self.encode(continuation))" }
        return (settings.endpoint == nil ? "\(bucketURL)/" : bucketURL) + "?" + query
    }

    func storeKey(listed key: String) -> String {
        prefix.isEmpty || !key.hasPrefix(prefix + "/") ? key : String(key.dropFirst(prefix.count + 1))
    }

    var signing: (provider: String, credentials: String)? {
        settings.credentials.map { ("aws:amz:\(settings.region):s3", "\($0.accessKey):\($0.secretKey)") }
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters, as SigV4 requires of
    /// paths and query values.
    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A") ... UInt8(ascii: "Z"), UInt8(ascii: "a") ... UInt8(ascii: "z"),
                 UInt8(ascii: "0") ... UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + Hex.encode([byte]).uppercased()
            }
        }
        return out
    }
}

/// A web server or blob container read with GET and Range (an Azure container SAS URL, a
/// presigned prefix, nginx over a store directory): read-only, and it cannot list points.
struct HTTPService: ObjectService {
    let base: String
    let query: String?

    var display: String { StoreAddress.http(base: base, query: query).display }

    func url(_ key: String) -> String {
        "\(base)/\(key)" + (query.map { "?\($0)" } ?? "")
    }

    var headers: [String] { [] }
    func headers(forBody body: UnsafeRawBufferPointer) -> [String] { [] }
    var canWrite: Bool { false }
    func listURL(prefix: String, continuation: String?) -> String? { nil }
    func storeKey(listed key: String) -> String { key }
}
