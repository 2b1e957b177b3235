#if canImport(Glibc)
import Glibc
#endif
import RecoveryPoint

/// Requests to one store, tried again as its `RetryPolicy` says, with every failure
/// described as an `ObjectStoreError` that names the store and the object.
final class ObjectClient: Sendable {
    let http: HTTPClient
    let retry: RetryPolicy
    /// The store's location as messages show it (no signature, no token).
    let store: String

    init(http: HTTPClient, retry: RetryPolicy, store: String) {
        self.http = http
        self.retry = retry
        self.store = store
    }

    /// Sends `request` until the answer is final (anything but 5xx, 429 or a broken
    /// connection) and returns it; throws `unavailable` once the attempts or the time run out.
    func send(_ request: HTTPRequest, key: String?, body: UnsafeRawBufferPointer? = nil, into sink: ResponseSink) throws(ObjectStoreError) -> HTTPResponse {
        let start = Self.now()
        var attempt = 0
        while true {
            attempt += 1
            let problem: String
            do {
                let response = try http.perform(request, body: body, into: sink)
                guard RetryPolicy.isRetryable(status: response.status) else { return response }
                problem = "HTTP \(response.status)\(Self.serverMessage(response))"
            } catch {
                guard error.isTransient else { throw ObjectStoreError(.badResponse, store: store, object: key, error.description) }
                problem = error.description
            }
            let elapsed = Self.now() - start
            guard attempt < retry.maxAttempts, elapsed < retry.maxTotal else {
                let seconds = String(Int(elapsed.rounded()))
                throw ObjectStoreError(.unavailable, store: store, object: key, "\(problem) (gave up after \(attempt) attempts in \(seconds) s)")
            }
            RetryPolicy.sleep(seconds: min(retry.delay(after: attempt), retry.maxTotal - elapsed))
        }
    }

    /// The error for a final answer that is not a success.
    func failure(_ response: HTTPResponse, key: String?) -> ObjectStoreError {
        let kind: StoreFaultKind = switch response.status {
        case 404: .notFound
        case 401, 403: .accessDenied
        default: .badResponse
        }
        return ObjectStoreError(kind, store: store, object: key, "HTTP \(response.status)\(Self.serverMessage(response))")
    }

    /// ": Code: Message" from an S3-style XML error body, printable ASCII only and short.
    static func serverMessage(_ response: HTTPResponse) -> String {
        let text = String(decoding: response.errorBody, as: UTF8.self)
        let parts = ["Code", "Message"].compactMap { XMLText.first($0, in: text) }.map { part in
            String(part.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }.prefix(200).map(Character.init))
        }.filter { !$0.isEmpty }
        return parts.isEmpty ? "" : ": " + parts.joined(separator: ": ")
    }

    private static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}

/// The few things rpfs reads from S3's XML (listings and error bodies): the text of simple
/// elements, entities decoded. Not a general XML parser: a malformed body yields nothing or
/// fewer values, never a crash, and the work is linear in the body's size.
enum XMLText {
    static func first(_ element: String, in text: String) -> String? {
        all(element, in: text).first
    }

    static func all(_ element: String, in text: String) -> [String] {
        let open = "<\(element)>"
        let close = "</\(element)>"
        var values: [String] = []
        var rest = text[...]
        while let start = rest.firstRange(of: open) {
            guard let end = rest[start.upperBound...].firstRange(of: close) else { break }
            values.append(decodeEntities(rest[start.upperBound ..< end.lowerBound]))
            rest = rest[end.upperBound...]
        }
        return values
    }

    private static func decodeEntities(_ text: Substring) -> String {
        guard text.contains("&") else { return String(text) }
        return String(text).replacing("&lt;", with: "<").replacing("&gt;", with: ">").replacing("&quot;", with: "\"")
            .replacing("&apos;", with: "'").replacing("&amp;", with: "&")
    }
}
