import COpenSSL

/// Failures of the crypto layer. Authentication failures are their own case: callers turn
/// them into integrity errors, never into data.
public enum CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The tag did not verify: the ciphertext, nonce, associated data or key is wrong.
    case authenticationFailed
    /// RSA-OAEP decryption failed: wrong key or damaged wrapped key.
    case unwrapFailed
    /// A key could not be parsed or is not one rpfs accepts.
    case invalidKey(String)
    /// An argument outside what the primitive allows (lengths, sizes).
    case invalidArgument(String)
    /// OpenSSL reported an error in an operation that should not fail.
    case library(operation: String, detail: String)

    public var description: String {
        switch self {
        case .authenticationFailed: "authentication failed"
        case .unwrapFailed: "RSA-OAEP unwrap failed (wrong key, or the wrapped key is damaged)"
        case let .invalidKey(why): "invalid key: \(why)"
        case let .invalidArgument(why): "invalid argument: \(why)"
        case let .library(operation, detail): "OpenSSL \(operation) failed: \(detail)"
        }
    }

    /// Drains OpenSSL's thread-local error queue into one library error.
    static func library(_ operation: String) -> CryptoError {
        var details: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            details.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return .library(operation: operation, detail: details.isEmpty ? "no detail" : details.joined(separator: "; "))
    }
}
