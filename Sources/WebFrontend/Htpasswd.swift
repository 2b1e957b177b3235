import FoundationEssentials
import HummingbirdBcrypt
import Synchronization

/// The users an htpasswd file names, with bcrypt hashes (`htpasswd -B`): the only kind
/// accepted, as the others (MD5-crypt, SHA-1, crypt) are fast enough to guess offline.
/// Credentials that verified once are remembered (at most `rememberedLimit`), so a client
/// that sends them with every request pays bcrypt's cost once.
final class Htpasswd: Sendable {
    static let rememberedLimit = 256
    private let hashes: [String: String]
    private let remembered = Mutex<Set<String>>([])

    init(text: String, file: String) throws(ServeError) {
        var hashes: [String: String] = [:]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingWhitespace()
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
            guard let colon = trimmed.firstIndex(of: ":") else { throw .configuration("\(file) line \(index + 1): not USER:HASH") }
            let user = String(trimmed[..<colon])
            let hash = String(trimmed[trimmed.index(after: colon)...])
            guard ["$2y$", "$2a$", "$2b$"].contains(where: hash.hasPrefix) else {
                throw .configuration("\(file) line \(index + 1): user '\(user)' has no bcrypt hash: make it with htpasswd -B")
            }
            // Apache's $2y$ is the same algorithm as $2b$, which is what OpenBSD's bcrypt
            // (hummingbird-auth's) accepts.
            hashes[user] = hash.hasPrefix("$2y$") ? "$2b$" + hash.dropFirst(4) : hash
        }
        guard !hashes.isEmpty else { throw .configuration("\(file) names no users") }
        self.hashes = hashes
    }

    /// Whether an Authorization header carries Basic credentials of a user in the file.
    func accepts(_ authorization: String?) -> Bool {
        guard let authorization, authorization.hasPrefix("Basic ") else { return false }
        if remembered.withLock({ $0.contains(authorization) }) { return true }
        guard let data = Data(base64Encoded: String(authorization.dropFirst(6))),
              let credentials = String(data: data, encoding: .utf8), let colon = credentials.firstIndex(of: ":"),
              let hash = hashes[String(credentials[..<colon])],
              Bcrypt.verify(String(credentials[credentials.index(after: colon)...]), hash: hash) else { return false }
        remembered.withLock { set in
            if set.count >= Self.rememberedLimit { set.removeAll() }
            set.insert(authorization)
        }
        return true
    }
}
