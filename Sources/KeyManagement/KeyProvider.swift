import Cryptography

/// Where KEKs live: a keyring directory today, an HSM or KMS behind the same seam later.
/// Private keys never leave a provider; only wrap and unwrap cross it.
public protocol KeyProvider: Sendable {
    /// Shown in errors: "keyring /path", "PKCS#11 token 'x'".
    var description: String { get }
    /// Versions of `name`, oldest first. Throws `kekNotFound` when the name is unknown.
    func versions(of name: String) throws(KeyError) -> [String]
    func wrap(_ dek: SecretBytes, with kek: KEKIdentifier) throws(KeyError) -> [UInt8]
    func unwrap(_ wrapped: [UInt8], with kek: KEKIdentifier) throws(KeyError) -> SecretBytes
}

extension KeyProvider {
    /// Turns `NAME` into `NAME/<newest version>`, and checks that `NAME/VERSION` exists.
    public func resolve(_ reference: KEKReference) throws(KeyError) -> KEKIdentifier {
        let available = try versions(of: reference.name)
        if let version = reference.version {
            let kek = try KEKIdentifier(name: reference.name, version: version)
            guard available.contains(version) else { throw .versionNotFound(kek, available: available, provider: description) }
            return kek
        }
        guard let newest = available.last else { throw .kekNotFound(name: reference.name, provider: description) }
        return try KEKIdentifier(name: reference.name, version: newest)
    }

    /// Unwraps the first of `wrapped` that this provider can open, trying in order.
    /// When none opens, the error lists every KEK tried and why it failed.
    public func unwrapAny(_ wrapped: [WrappedKey]) throws(KeyError) -> (dek: SecretBytes, kek: KEKIdentifier) {
        var failures: [KeyError] = []
        for candidate in wrapped {
            do {
                return (try unwrap(candidate.bytes, with: candidate.kek), candidate.kek)
            } catch {
                failures.append(error)
            }
        }
        // One failure speaks for itself, except a missing name: then say which version is needed.
        if failures.count == 1, let only = failures.first {
            if case .kekNotFound = only {} else { throw only }
        }
        throw .noUsableKEK(needed: wrapped.map(\.kek), failures: failures)
    }
}

/// A DEK wrapped under one KEK version.
public struct WrappedKey: Sendable, Equatable {
    public let kek: KEKIdentifier
    public let algorithm: WrapAlgorithm
    public let bytes: [UInt8]

    public init(kek: KEKIdentifier, algorithm: WrapAlgorithm, bytes: [UInt8]) {
        self.kek = kek
        self.algorithm = algorithm
        self.bytes = bytes
    }
}

/// Key-wrapping algorithms, by their on-disk code.
public enum WrapAlgorithm: UInt8, Sendable, Equatable {
    /// RSA-OAEP with SHA-256 for the hash and MGF1, empty label.
    case rsaOAEPSHA256 = 1

    public var name: String {
        switch self {
        case .rsaOAEPSHA256: "RSA-OAEP-SHA256"
        }
    }
}

/// A provider that can also list and create KEK versions (`rpfs keys`): the keyring
/// directory and PKCS#11 tokens. An external KMS command only wraps and unwraps.
public protocol KeyAdministration: KeyProvider {
    /// Every KEK name with its versions, oldest first.
    func list() throws(KeyError) -> [(name: String, versions: [String])]
    /// Creates the next version of `name`; a deleted version's number is never reused.
    func createVersion(of name: String, bits: Int) throws(KeyError) -> KEKIdentifier
}

extension KeyringDirectory: KeyAdministration {}
extension PKCS11Provider: KeyAdministration {}
