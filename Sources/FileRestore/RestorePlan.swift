import ByteParsing
import FoundationEssentials
import VolumeModel

/// A filter on the files a plan entry selects: a pattern with a '/' is matched against the
/// whole path in the point ("/disk0/part1/var/cache/**"); one without is matched against
/// the name alone ("*.tmp"), at any depth.
public enum NameFilter: Sendable, Equatable, CustomStringConvertible {
    case path(PathPattern)
    case name(ComponentPattern)

    public init(_ text: String) throws(RestoreError) {
        self = text.contains("/") ? .path(try PathPattern(text)) : .name(try ComponentPattern(text))
    }

    public func matches(_ path: [FileName], caseInsensitive: Bool) -> Bool {
        switch self {
        case let .path(pattern): pattern.matches(path, caseInsensitive: caseInsensitive)
        case let .name(pattern): path.last.map { pattern.matches($0, caseInsensitive: caseInsensitive) } ?? false
        }
    }

    public var description: String {
        switch self {
        case let .path(pattern): pattern.description
        case let .name(pattern): pattern.description
        }
    }
}

/// What `rpfs restore` restores (the format is in docs/RESTORE.md). A plan is JSON:
///
///     {"version": 1,
///      "entries": [{"path": "/disk0/part1/etc/**/*.conf"},
///                  {"path": "/disk1/part2/Users/*/Documents/**", "to": "documents",
///                   "include": ["*.docx"], "exclude": ["~$*"]}],
///      "exclude": ["*.tmp"]}
///
/// or plain text, one path pattern per line ('#' starts a comment, '!' an exclude).
public struct RestorePlan: Sendable {
    public struct Entry: Sendable {
        public let pattern: PathPattern
        /// Where below the restore's destination, relative; nil keeps the path in the point.
        public let destination: [FileName]?
        /// When not empty, only files matching one of these are restored.
        public let include: [NameFilter]
        public let exclude: [NameFilter]

        public init(pattern: PathPattern, destination: [FileName]? = nil, include: [NameFilter] = [], exclude: [NameFilter] = []) {
            self.pattern = pattern
            self.destination = destination
            self.include = include
            self.exclude = exclude
        }
    }

    public static let formatVersion = 1
    /// Plans are written by people and scripts; anything larger is a mistake or an attack.
    public static let maxBytes = 16 << 20
    public static let maxEntries = 100_000

    public let entries: [Entry]
    /// Excludes that apply to every entry.
    public let exclude: [NameFilter]

    public init(entries: [Entry], exclude: [NameFilter] = []) throws(RestoreError) {
        guard !entries.isEmpty else { throw .plan("it names nothing to restore") }
        guard entries.count <= Self.maxEntries else { throw .plan("more than \(Self.maxEntries) entries") }
        self.entries = entries
        self.exclude = exclude
    }

    /// Paths given on the command line: each is an entry restored under its path in the point.
    public init(patterns: [String]) throws(RestoreError) {
        var entries: [Entry] = []
        for text in patterns { entries.append(Entry(pattern: try PathPattern(text))) }
        try self.init(entries: entries)
    }

    /// A plan file's bytes: JSON when its first non-blank character is '{', else lines.
    public init(parsing bytes: [UInt8]) throws(RestoreError) {
        guard bytes.count <= Self.maxBytes else { throw .plan("larger than \(Self.maxBytes >> 20) MiB") }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .plan("not UTF-8 text") }
        if text.first(where: { !$0.isWhitespace }) == "{" {
            try self.init(json: Data(bytes))
        } else {
            try self.init(lines: text)
        }
    }

    private init(lines text: String) throws(RestoreError) {
        var entries: [Entry] = []
        var exclude: [NameFilter] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            // Tab and space separators: what Foundation's `.whitespaces` trimmed here.
            let line = String(raw).trimming { $0 == "\t" || $0.properties.generalCategory == .spaceSeparator }
            if line.isEmpty || line.hasPrefix("#") { continue }
            do {
                if line.hasPrefix("!") {
                    exclude.append(try NameFilter(String(line.dropFirst())))
                } else {
                    entries.append(Entry(pattern: try PathPattern(line)))
                }
            } catch {
                throw .plan("line \(number + 1): \(Self.reason(error))")
            }
        }
        try self.init(entries: entries, exclude: exclude)
    }

    private init(json data: Data) throws(RestoreError) {
        let document: JSONValue
        do {
            document = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw .plan("not valid JSON")
        }
        guard case let .object(top) = document else { throw .plan("the top level must be an object") }
        try Self.onlyKeys(["version", "entries", "exclude"], in: top, at: "the plan")
        guard case let .number(number) = top["version"], let version = Int(exactly: number) else { throw .plan("\"version\" is missing (this rpfs reads version \(Self.formatVersion))") }
        guard version == Self.formatVersion else { throw .plan("version \(version) is not supported (this rpfs reads version \(Self.formatVersion))") }
        guard case let .array(list) = top["entries"] else { throw .plan("\"entries\" must be a list") }
        var entries: [Entry] = []
        for (index, item) in list.enumerated() {
            do {
                entries.append(try Self.entry(item))
            } catch {
                throw .plan("entry \(index + 1): \(Self.reason(error))")
            }
        }
        try self.init(entries: entries, exclude: try Self.filters(top["exclude"], "exclude"))
    }

    private static func entry(_ item: JSONValue) throws(RestoreError) -> Entry {
        if case let .string(path) = item { return Entry(pattern: try PathPattern(path)) }
        guard case let .object(fields) = item else { throw .plan("must be a path or an object") }
        try onlyKeys(["path", "to", "include", "exclude"], in: fields, at: "the entry")
        guard case let .string(path) = fields["path"] else { throw .plan("\"path\" is missing") }
        var destination: [FileName]?
        if let to = fields["to"] {
            guard case let .string(to) = to else { throw .plan("\"to\" must be a string") }
            destination = try relativeDestination(to)
        }
        return Entry(pattern: try PathPattern(path), destination: destination,
                     include: try filters(fields["include"], "include"), exclude: try filters(fields["exclude"], "exclude"))
    }

    /// A destination inside the restore's target: relative, and never climbing out of it.
    static func relativeDestination(_ text: String) throws(RestoreError) -> [FileName] {
        guard !text.hasPrefix("/") else { throw .plan("\"to\": '\(text)' must be relative to the restore's --to directory") }
        var names: [FileName] = []
        for part in text.split(separator: "/", omittingEmptySubsequences: true) where part != "." {
            guard part != "..", let name = try? FileName(validating: String(part)) else {
                throw .plan("\"to\": '\(text)' may not contain '\(part)'")
            }
            names.append(name)
        }
        return names
    }

    private static func filters(_ value: JSONValue?, _ key: String) throws(RestoreError) -> [NameFilter] {
        guard let value else { return [] }
        guard case let .array(items) = value else { throw .plan("\"\(key)\" must be a list of patterns") }
        var filters: [NameFilter] = []
        for item in items {
            guard case let .string(text) = item else { throw .plan("\"\(key)\" must be a list of patterns") }
            filters.append(try NameFilter(text))
        }
        return filters
    }

    /// Unknown keys are refused: a misspelt "exclude" must not silently restore everything.
    private static func onlyKeys(_ known: Set<String>, in object: [String: JSONValue], at place: String) throws(RestoreError) {
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw .plan("\(place) has an unknown key \"\(unknown)\" (known: \(known.sorted().joined(separator: ", ")))")
        }
    }

    private static func reason(_ error: RestoreError) -> String {
        if case let .plan(message) = error { return message }
        return error.description
    }
}

/// Any JSON value: a plan is checked field by field, so that an error names what is wrong.
private enum JSONValue: Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        // Strings and objects first: they make up plans, and every failed attempt costs an error.
        if container.decodeNil() {
            self = .null
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let object = try? container.decode([String: JSONValue].self) {
            self = .object(object)
        } else if let array = try? container.decode([JSONValue].self) {
            self = .array(array)
        } else if let bool = try? container.decode(Bool.self) {
            self = .bool(bool)
        } else {
            self = .number(try container.decode(Double.self))
        }
    }
}
