/// Why `rpfs serve` could not start or serve.
public enum ServeError: Error, Sendable, CustomStringConvertible {
    /// The options cannot be served safely or at all (a public address without TLS).
    case refused(String)
    /// A certificate, key or htpasswd file could not be read or used.
    case configuration(String)
    /// The server failed while running (the address was taken).
    case server(String)

    public var description: String {
        switch self {
        case let .refused(why): why
        case let .configuration(what): what
        case let .server(what): what
        }
    }
}
