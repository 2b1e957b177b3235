/// Why a key could not be found, used or made.
public enum KeyError: Error, Sendable, CustomStringConvertible {
    case invalidIdentifier(String, reason: String)
    /// The provider has no key of this name at all.
    case kekNotFound(name: String, provider: String)
    /// The provider has the name but not this version.
    case versionNotFound(KEKIdentifier, available: [String], provider: String)
    /// The key was found but did not unwrap the DEK (wrong key or damaged wrapped DEK).
    case unwrapFailed(KEKIdentifier)
    case permissionDenied(path: String)
    case invalidKeyFile(path: String, reason: String)
    /// A point lists wrapped DEKs but the provider can unwrap none of them.
    case noUsableKEK(needed: [KEKIdentifier], failures: [KeyError])
    case provider(String)

    public var description: String {
        switch self {
        case let .invalidIdentifier(text, reason):
            return "invalid KEK identifier '\(text)': \(reason) (names and versions are 1-64 of A-Z a-z 0-9 . _ -)"
        case let .kekNotFound(name, provider):
            return "KEK '\(name)' not found in \(provider)"
        case let .versionNotFound(kek, available, provider):
            let have = available.isEmpty ? "no versions" : "versions \(available.joined(separator: ", "))"
            return "KEK version '\(kek)' not found in \(provider) (it has \(have)); "
                + "a point made before a key rotation needs the version it was wrapped with: restore that version, "
                + "or rewrap the point while a version that opens it is still available"
        case let .unwrapFailed(kek):
            return "KEK '\(kek)' did not unwrap the data-encryption key: wrong key for this point, or the wrapped key is damaged"
        case let .permissionDenied(path):
            return "permission denied reading key material at \(path)"
        case let .invalidKeyFile(path, reason):
            return "key file \(path) is not usable: \(reason)"
        case let .noUsableKEK(needed, failures):
            let list = needed.map(\.description).joined(separator: ", ")
            let why = failures.map { "  - \($0)" }.joined(separator: "\n")
            return "no KEK that this point is wrapped with could unwrap its key (needs one of: \(list))\n\(why)"
        case let .provider(message):
            return message
        }
    }
}
