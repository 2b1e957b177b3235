import ByteParsing
import CCurl
import Synchronization

/// What one HTTP exchange asks for.
struct HTTPRequest: Sendable {
    enum Method: String, Sendable {
        case get = "GET", head = "HEAD", put = "PUT"
    }

    var method: Method
    var url: String
    var headers: [String] = []
    /// Bytes `first...last` only (`Range:`).
    var range: ClosedRange<UInt64>?

    init(_ method: Method, _ url: String) {
        self.method = method
        self.url = url
    }
}

/// What came back: the status, the headers (names lowercased), and the body's byte count.
struct HTTPResponse: Sendable {
    var status: Int
    var headers: [String: String]
    var bodyBytes: Int
    /// The body, for `.collect`.
    var body: [UInt8]
    /// The body was longer than the sink takes: the transfer was stopped there.
    var bodyTooLarge: Bool
    /// The start of an error response's body (S3 puts its XML error here), at most 4 KiB.
    var errorBody: [UInt8]
}

/// Where a response body goes.
enum ResponseSink {
    /// Into this buffer; a longer body stops the transfer (`HTTPResponse.bodyTooLarge`).
    case buffer(UnsafeMutableRawBufferPointer)
    /// Into a new array of at most `limit` bytes (`HTTPResponse.body`); more stops the transfer.
    case collect(limit: Int)
    /// Nowhere (HEAD, or bodies nobody reads).
    case discard
}

/// How long rpfs waits for a server, and how it signs requests.
struct HTTPSettings: Sendable {
    /// Seconds to connect, and seconds a transfer may make no progress before it is abandoned.
    var connectTimeout = 10
    var stallTimeout = 30
    /// "aws:amz:REGION:s3" and "KEY:SECRET": libcurl signs each request with AWS Signature V4.
    var signing: (provider: String, credentials: String)?
    /// A PEM bundle of certificate authorities to trust instead of the system's.
    var caFile: String?

    init() {}
}

/// A small HTTP client over libcurl's easy interface. Handles are pooled, so connections are
/// kept alive and reused across requests; each request runs on the calling thread, so callers
/// get parallel transfers by calling from several threads (the point disk's loaders do).
final class HTTPClient: Sendable {
    let settings: HTTPSettings
    private let curl: Libcurl
    private let handles = Mutex<[CurlHandle]>([])
    private static let maxPooledHandles = 16
    private static let errorBodyLimit = 4096

    init(settings: HTTPSettings, curl: Libcurl) {
        self.settings = settings
        self.curl = curl
    }

    /// One attempt: sends `request` (with `body` for PUT) and delivers the body to `sink`
    /// when the status is 2xx. Throws only for transport failures; HTTP errors come back as
    /// a status for the caller to judge.
    func perform(_ request: HTTPRequest, body: UnsafeRawBufferPointer? = nil, into sink: ResponseSink) throws(HTTPError) -> HTTPResponse {
        let handle = handles.withLock { $0.popLast() } ?? CurlHandle(curl)
        guard let raw = handle.raw else { throw .transport(code: Int(CURLE_FAILED_INIT.rawValue), message: "cannot create a libcurl handle") }
        let transfer = Transfer(sink: sink, errorBodyLimit: Self.errorBodyLimit, getinfo: curl.easyGetinfo)
        defer {
            rpfs_curl_easy_reset(curl.easyReset, raw)
            handles.withLock { if $0.count < Self.maxPooledHandles { $0.append(handle) } }
        }
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { rpfs_curl_slist_free_all(curl.slistFreeAll, headerList) }
        var headers = request.headers
        if request.method == .put {
            // Not form encoding: the raw object bytes. (An empty "Expect:" to drop 100-continue
            // would still be signed by libcurl, and S3 servers then refuse the signature.)
            headers += ["Content-Type: application/octet-stream"]
        }
        for header in headers { headerList = rpfs_curl_slist_append(curl.slistAppend, headerList, header) }

        let context = Unmanaged.passUnretained(transfer).toOpaque()
        let setopt = curl.easySetopt
        var code = withExtendedLifetime(transfer) { () -> CURLcode in
            _ = rpfs_curl_set_string(setopt, raw, CURLOPT_URL, request.url)
            _ = rpfs_curl_set_long(setopt, raw, CURLOPT_NOSIGNAL, 1)
            _ = rpfs_curl_set_long(setopt, raw, CURLOPT_CONNECTTIMEOUT, settings.connectTimeout)
            _ = rpfs_curl_set_long(setopt, raw, CURLOPT_LOW_SPEED_LIMIT, 1)
            _ = rpfs_curl_set_long(setopt, raw, CURLOPT_LOW_SPEED_TIME, settings.stallTimeout)
            _ = rpfs_curl_set_long(setopt, raw, CURLOPT_FOLLOWLOCATION, 0)
            _ = rpfs_curl_set_string(setopt, raw, CURLOPT_PROTOCOLS_STR, "http,https")
            if let caFile = settings.caFile { _ = rpfs_curl_set_string(setopt, raw, CURLOPT_CAINFO, caFile) }
            if let signing = settings.signing {
                _ = rpfs_curl_set_string(setopt, raw, CURLOPT_AWS_SIGV4, signing.provider)
                _ = rpfs_curl_set_string(setopt, raw, CURLOPT_USERPWD, signing.credentials)
            }
            _ = rpfs_curl_set_pointer(setopt, raw, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(headerList))
            if let range = request.range { _ = rpfs_curl_set_string(setopt, raw, CURLOPT_RANGE, "\(range.lowerBound)-\(range.upperBound)") }
            switch request.method {
            case .get:
                break
            case .head:
                _ = rpfs_curl_set_long(setopt, raw, CURLOPT_NOBODY, 1)
            case .put:
                _ = rpfs_curl_set_string(setopt, raw, CURLOPT_CUSTOMREQUEST, "PUT")
                _ = rpfs_curl_set_body(setopt, raw, body?.baseAddress, curl_off_t(body?.count ?? 0))
            }
            _ = rpfs_curl_set_callback(setopt, raw, CURLOPT_WRITEFUNCTION, { data, size, count, context in
                guard let context, let data else { return 0 }
                let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
                return transfer.receive(UnsafeRawBufferPointer(start: data, count: size * count)) ? size * count : 0
            })
            _ = rpfs_curl_set_pointer(setopt, raw, CURLOPT_WRITEDATA, context)
            _ = rpfs_curl_set_callback(setopt, raw, CURLOPT_HEADERFUNCTION, { data, size, count, context in
                guard let context, let data else { return 0 }
                let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
                transfer.header(UnsafeRawBufferPointer(start: data, count: size * count))
                return size * count
            })
            _ = rpfs_curl_set_pointer(setopt, raw, CURLOPT_HEADERDATA, context)
            transfer.handle = raw
            return rpfs_curl_easy_perform(curl.easyPerform, raw)
        }
        if code == CURLE_WRITE_ERROR, transfer.overflowed { code = CURLE_OK }
        guard code == CURLE_OK else {
            throw .transport(code: Int(code.rawValue), message: String(cString: rpfs_curl_easy_strerror(curl.easyStrerror, code)))
        }
        return HTTPResponse(status: rpfs_curl_response_code(curl.easyGetinfo, raw), headers: transfer.headers,
                            bodyBytes: transfer.received, body: transfer.collected, bodyTooLarge: transfer.overflowed,
                            errorBody: transfer.errorBody)
    }
}

/// A libcurl easy handle, cleaned up when the last reference goes.
final class CurlHandle: @unchecked Sendable {
    // @unchecked: a handle is used by one thread at a time (taken from and returned to the pool).
    let raw: UnsafeMutableRawPointer?
    private let cleanup: UnsafeMutableRawPointer

    init(_ curl: Libcurl) {
        raw = rpfs_curl_easy_init(curl.easyInit)
        cleanup = curl.easyCleanup
    }

    deinit {
        if let raw { rpfs_curl_easy_cleanup(cleanup, raw) }
    }
}

/// The state of one transfer, reached from libcurl's callbacks.
private final class Transfer {
    let sink: ResponseSink
    let errorBodyLimit: Int
    var handle: UnsafeMutableRawPointer?
    var received = 0
    var overflowed = false
    var headers: [String: String] = [:]
    var errorBody: [UInt8] = []
    var collected: [UInt8] = []
    /// curl_easy_getinfo, for the status while the body arrives.
    let getinfo: UnsafeMutableRawPointer

    init(sink: ResponseSink, errorBodyLimit: Int, getinfo: UnsafeMutableRawPointer) {
        self.sink = sink
        self.errorBodyLimit = errorBodyLimit
        self.getinfo = getinfo
    }

    /// False stops the transfer: the body is longer than the buffer.
    func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if let handle, !(200 ..< 300).contains(rpfs_curl_response_code(getinfo, handle)) {
            errorBody += bytes.prefix(max(0, errorBodyLimit - errorBody.count))
            return true
        }
        switch sink {
        case .discard:
            received += bytes.count
            return true
        case let .collect(limit):
            guard bytes.count <= limit - received else {
                overflowed = true
                return false
            }
            collected += bytes
            received += bytes.count
            return true
        case let .buffer(buffer):
            guard bytes.count <= buffer.count - received else {
                overflowed = true
                return false
            }
            UnsafeMutableRawBufferPointer(rebasing: buffer[received ..< received + bytes.count]).copyMemory(from: bytes)
            received += bytes.count
            return true
        }
    }

    /// Headers kept from one response: rpfs reads three; a server sending thousands gets the first.
    static let maxHeaders = 100

    /// One header line; a status line starts a new set (after a 100 Continue, for example).
    func header(_ line: UnsafeRawBufferPointer) {
        let text = String(decoding: line, as: UTF8.self)
        if text.hasPrefix("HTTP/") {
            headers = [:]
            return
        }
        guard headers.count < Self.maxHeaders, let colon = text.firstIndex(of: ":") else { return }
        let name = text[..<colon].lowercased()
        let value = String(text[text.index(after: colon)...]).trimmingWhitespace()
        headers[name] = value
    }
}
