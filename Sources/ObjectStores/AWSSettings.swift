import ByteParsing
import POSIXFiles

/// Region, credentials and endpoint the way AWS tools take them: the environment first
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` or
/// `AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`), then the profile
/// (`AWS_PROFILE`, else "default") in the shared files (`AWS_SHARED_CREDENTIALS_FILE`, else
/// ~/.aws/credentials; `AWS_CONFIG_FILE`, else ~/.aws/config).
public struct AWSSettings: Sendable {
    public struct Credentials: Sendable {
        public let accessKey: String
        public let secretKey: String
        public let sessionToken: String?
    }

    public var region: String
    /// nil: no credentials anywhere; requests go unsigned (public buckets).
    public var credentials: Credentials?
    /// A custom endpoint (MinIO, Ceph, a test server): path-style addressing.
    public var endpoint: String?

    public static func from(environment: [String: String]) -> AWSSettings {
        let home = environment["HOME"] ?? "/root"
        let profile = environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        let credentialsFile = INIFile(path: environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "\(home)/.aws/credentials")
        let configFile = INIFile(path: environment["AWS_CONFIG_FILE"] ?? "\(home)/.aws/config")
        // The config file names profiles "profile NAME", except "default".
        let configSection = profile == "default" ? "default" : "profile \(profile)"
        func setting(_ name: String) -> String? {
            credentialsFile.value(name, in: profile) ?? configFile.value(name, in: configSection)
        }
        let nonEmpty = { (name: String) -> String? in environment[name].flatMap { $0.isEmpty ? nil : $0 } }

        var credentials: Credentials?
        if let key = nonEmpty("AWS_ACCESS_KEY_ID"), let secret = nonEmpty("AWS_SECRET_ACCESS_KEY") {
            credentials = Credentials(accessKey: key, secretKey: secret, sessionToken: nonEmpty("AWS_SESSION_TOKEN"))
        } else if let key = setting("aws_access_key_id"), let secret = setting("aws_secret_access_key") {
            credentials = Credentials(accessKey: key, secretKey: secret, sessionToken: setting("aws_session_token"))
        }
        let region = nonEmpty("AWS_REGION") ?? nonEmpty("AWS_DEFAULT_REGION") ?? configFile.value("region", in: configSection) ?? "us-east-1"
        let endpoint = nonEmpty("AWS_ENDPOINT_URL_S3") ?? nonEmpty("AWS_ENDPOINT_URL")
        return AWSSettings(region: region, credentials: credentials, endpoint: endpoint)
    }
}

/// The shared AWS files: `[section]` headers and `name = value` lines; `#` and `;` start
/// comments. A missing or unreadable file has no values.
struct INIFile {
    private var sections: [String: [String: String]] = [:]

    init(path: String) {
        guard let bytes = try? Files.read(path, limit: 1 << 20) else { return }
        var section = ""
        for rawLine in String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline) {
            let line = String(rawLine).trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast()).trimmingWhitespace()
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let name = String(line[..<equals]).trimmingWhitespace().lowercased()
            sections[section, default: [:]][name] = String(line[line.index(after: equals)...]).trimmingWhitespace()
        }
    }

    func value(_ name: String, in section: String) -> String? {
        sections[section]?[name].flatMap { $0.isEmpty ? nil : $0 }
    }
}
