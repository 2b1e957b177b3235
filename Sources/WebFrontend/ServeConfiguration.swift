/// How `rpfs serve` listens and whom it answers.
public struct ServeConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// PEM files of the certificate chain and its key: HTTPS when both are given.
    public var certificateFile: String?
    public var keyFile: String?
    /// The text of an htpasswd file of bcrypt entries, and its name for messages: every
    /// request then needs Basic credentials of one of its users.
    public var htpasswd: (text: String, file: String)?
    /// A connection with nothing to read or write for this long is closed (a slow or idle client).
    public var idleTimeout: Duration = .seconds(60)
    /// Connections accepted at once; more wait in the backlog.
    public var maxConnections = 256
    /// Requests answered at once (a download counts until its last byte); more get 503.
    public var maxRequests = 128
    /// Archives made at once (each reads a whole tree); more get 503.
    public var maxArchives = 16
    /// Threads that may block on the point's reads at once.
    public var readers = 16
    /// Called with one line per request answered: method, target, status.
    public var log: (@Sendable (String) -> Void)?

    public init() {}

    /// 127.0.0.0/8, ::1 and localhost: only this machine can connect.
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || (host.hasPrefix("127.") && host.split(separator: ".").count == 4)
    }

    public var isTLS: Bool { certificateFile != nil && keyFile != nil }

    /// The URL clients use: the address as given (so a test's port 0 is shown as bound later).
    public func url(port: Int) -> String {
        let shown = host.contains(":") ? "[\(host)]" : host
        return "\(isTLS ? "https" : "http")://\(shown):\(port)/"
    }

    /// Refuses what would expose the point: an address other machines reach without TLS and
    /// a password file, and half of a certificate pair.
    public func check() throws(ServeError) {
        guard (certificateFile == nil) == (keyFile == nil) else { throw .refused("--tls-cert and --tls-key go together") }
        guard isLoopback || (isTLS && htpasswd != nil) else {
            throw .refused("\(host) is reachable from other machines: serving it needs --tls-cert, --tls-key and --htpasswd, "
                + "or anyone who can reach it could read (and overhear) every file of the point")
        }
    }
}
