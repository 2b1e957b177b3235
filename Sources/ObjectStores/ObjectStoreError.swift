import RecoveryPoint

/// Why an object store request failed: which store (its location with any signature
/// redacted), which object, and what the server or the connection said.
public struct ObjectStoreError: StoreFault {
    public let kind: StoreFaultKind
    public let store: String
    public let object: String?
    public let detail: String

    public init(_ kind: StoreFaultKind, store: String, object: String?, _ detail: String) {
        self.kind = kind
        self.store = store
        self.object = object
        self.detail = detail
    }

    public var description: String {
        "store \(store)" + (object.map { ", object \($0)" } ?? "") + ": \(detail)"
    }
}

/// A transport failure inside the HTTP client: libcurl's code and message. It never leaves
/// the module: `ObjectClient` turns it into an `ObjectStoreError`.
enum HTTPError: Error, Sendable, CustomStringConvertible {
    case transport(code: Int, message: String)

    public var description: String {
        switch self {
        case let .transport(code, message): "\(message) (libcurl error \(code))"
        }
    }

    /// Worth another attempt: the connection failed, stalled or broke mid-transfer.
    var isTransient: Bool {
        guard case let .transport(code, _) = self else { return false }
        // COULDNT_CONNECT, PARTIAL_FILE, OPERATION_TIMEDOUT, GOT_NOTHING, SEND_ERROR, RECV_ERROR,
        // HTTP2 and HTTP2_STREAM: what a dropped, reset or stalled connection gives.
        return [7, 16, 18, 28, 52, 55, 56, 92].contains(code)
    }
}
