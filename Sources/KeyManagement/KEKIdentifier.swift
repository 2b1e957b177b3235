import ByteParsing

/// A key-encryption key version: `name/version`, as points record it.
public struct KEKIdentifier: Hashable, Sendable, CustomStringConvertible, Codable {
    public let name: String
    public let version: String

    public init(name: String, version: String) throws(KeyError) {
        guard Self.isValidComponent(name) else { throw .invalidIdentifier("\(name)/\(version)", reason: "bad KEK name") }
        guard Self.isValidComponent(version) else { throw .invalidIdentifier("\(name)/\(version)", reason: "bad KEK version") }
        self.name = name
        self.version = version
    }

    public var description: String { "\(name)/\(version)" }

    /// Names and versions become file names in a keyring and labels in an HSM.
    public static func isValidComponent(_ text: String) -> Bool { SafeName.isValid(text) }

    /// Orders versions as a person would: numerically when both are numbers, else by text.
    public static func versionPrecedes(_ a: String, _ b: String) -> Bool {
        switch (UInt64(a), UInt64(b)) {
        case let (x?, y?): x < y
        case (_?, nil): true
        case (nil, _?): false
        case (nil, nil): a < b
        }
    }
}

/// What a user names on the command line: `NAME` (meaning its newest version) or `NAME/VERSION`.
public struct KEKReference: Sendable, CustomStringConvertible {
    public let name: String
    public let version: String?

    public init(parsing text: String) throws(KeyError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 1:
            guard KEKIdentifier.isValidComponent(parts[0]) else { throw .invalidIdentifier(text, reason: "bad KEK name") }
            name = parts[0]
            version = nil
        case 2:
            let identifier = try KEKIdentifier(name: parts[0], version: parts[1])
            name = identifier.name
            version = identifier.version
        default:
            throw .invalidIdentifier(text, reason: "expected NAME or NAME/VERSION")
        }
    }

    public var description: String { version.map { "\(name)/\($0)" } ?? name }
}
