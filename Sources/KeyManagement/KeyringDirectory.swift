#if canImport(Glibc)
import Glibc
#endif
import Cryptography
import POSIXFiles

/// KEKs as PEM files: `DIR/NAME/VERSION.pem`, PKCS#8 RSA private keys.
/// The newest version of a name is current; older versions stay until deleted so that
/// points wrapped before a rotation still open.
public struct KeyringDirectory: KeyProvider {
    public let path: String
    public static let defaultBits = 3072
    // A PEM RSA-4096 private key is about 3.3 KB; anything far larger is not a key.
    private static let maxKeyFileSize = 64 * 1024
    /// Per name, the highest version number ever issued.
    static let lastIssuedFile = ".last-version"

    public init(path: String) {
        self.path = path
    }

    public var description: String { "keyring \(path)" }

    public func versions(of name: String) throws(KeyError) -> [String] {
        guard KEKIdentifier.isValidComponent(name) else { throw .invalidIdentifier(name, reason: "bad KEK name") }
        let directory = "\(path)/\(name)"
        let files: [String]
        do {
            files = try Files.list(directory)
        } catch {
            if error.isNotFound { throw .kekNotFound(name: name, provider: description) }
            throw Self.keyError(error)
        }
        return files.compactMap { file in
            guard file.hasSuffix(".pem") else { return nil }
            let version = String(file.dropLast(4))
            return KEKIdentifier.isValidComponent(version) ? version : nil
        }.sorted(by: KEKIdentifier.versionPrecedes)
    }

    /// Every KEK name with its versions, oldest first.
    public func list() throws(KeyError) -> [(name: String, versions: [String])] {
        let names: [String]
        do {
            names = try Files.list(path)
        } catch {
            if error.isNotFound { return [] }
            throw Self.keyError(error)
        }
        var result: [(name: String, versions: [String])] = []
        for name in names where KEKIdentifier.isValidComponent(name) {
            result.append((name, try versions(of: name)))
        }
        return result
    }

    /// Creates the next version of `name`: one past the highest version ever issued, so a
    /// deleted version's number is never reused for a different key (a point wrapped under
    /// the old key would then meet an impostor with its KEK's name).
    public func createVersion(of name: String, bits: Int = defaultBits) throws(KeyError) -> KEKIdentifier {
        guard KEKIdentifier.isValidComponent(name) else { throw .invalidIdentifier(name, reason: "bad KEK name") }
        let existing: [String]
        do {
            existing = try versions(of: name)
        } catch .kekNotFound {
            existing = []
        }
        let directory = "\(path)/\(name)"
        let counter = "\(directory)/\(Self.lastIssuedFile)"
        let lastIssued = (try? Files.read(counter, limit: 64)).flatMap { UInt64(String(decoding: $0, as: UTF8.self)) } ?? 0
        let next = max(lastIssued, existing.compactMap { UInt64($0) }.max() ?? 0) + 1
        let kek = try KEKIdentifier(name: name, version: String(next))
        let pem: [UInt8]
        do {
            pem = try RSAKey.generate(bits: bits).privateKeyPEM()
        } catch {
            throw .provider("could not generate RSA-\(bits) key: \(error)")
        }
        do {
            try Files.makeDirectory(path, mode: 0o700)
            try Files.makeDirectory(directory, mode: 0o700)
            // exclusive: two concurrent `keys new` never overwrite one version with another.
            try Files.writeAtomically(file(for: kek), bytes: pem, mode: 0o600, exclusive: true)
            try Files.writeAtomically(counter, bytes: Array(String(next).utf8), mode: 0o600)
        } catch {
            throw Self.keyError(error)
        }
        return kek
    }

    public func wrap(_ dek: SecretBytes, with kek: KEKIdentifier) throws(KeyError) -> [UInt8] {
        let key = try load(kek)
        do {
            return try key.wrap(dek)
        } catch {
            throw .provider("wrapping under \(kek) failed: \(error)")
        }
    }

    public func unwrap(_ wrapped: [UInt8], with kek: KEKIdentifier) throws(KeyError) -> SecretBytes {
        let key = try load(kek)
        do {
            return try key.unwrap(wrapped)
        } catch {
            throw .unwrapFailed(kek)
        }
    }

    private func file(for kek: KEKIdentifier) -> String {
        "\(path)/\(kek.name)/\(kek.version).pem"
    }

    private func load(_ kek: KEKIdentifier) throws(KeyError) -> RSAKey {
        let location = file(for: kek)
        var pem: [UInt8]
        do {
            pem = try Files.read(location, limit: Self.maxKeyFileSize)
        } catch {
            if error.isNotFound {
                let available = try versions(of: kek.name)
                throw .versionNotFound(kek, available: available, provider: description)
            }
            throw Self.keyError(error)
        }
        defer { pem.withUnsafeMutableBytes { SecretBytes.wipe($0) } }
        do {
            return try RSAKey.privateKey(pem: pem)
        } catch {
            throw .invalidKeyFile(path: location, reason: "\(error)")
        }
    }

    private static func keyError(_ error: SystemError) -> KeyError {
        if error.isPermissionDenied { return .permissionDenied(path: error.path) }
        return .provider("\(error)")
    }
}
