#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Catalog
import FileRestore
import RecoveryPoint
import VolumeModel

struct FindCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "find",
        abstract: "Search the catalogs of the store's points (or those named) for paths matching a pattern; reads no chunk.")

    @Argument(help: ArgumentHelp("A restore-plan pattern against the full path (/disk0/part1/etc/**/*.conf); without '/', against names in any directory (*.xlsx).", valueName: "PATTERN"))
    var pattern: String

    @Option(name: .customLong("point"), help: ArgumentHelp("Search this point only; repeat for more (default: every point).", valueName: "POINT"))
    var points: [String] = []

    @Option(help: ArgumentHelp("Only entries modified at or after DATE (YYYY-MM-DD[THH:MM[:SS]], UTC).", valueName: "DATE"))
    var since: String?

    @Option(help: ArgumentHelp("Only entries modified before DATE.", valueName: "DATE"))
    var until: String?

    @Option(help: ArgumentHelp("Only entries larger than SIZE (4K, 10M).", valueName: "SIZE"))
    var larger: String?

    @Option(help: ArgumentHelp("Only entries smaller than SIZE.", valueName: "SIZE"))
    var smaller: String?

    @Option(help: ArgumentHelp("Only regular files (f), directories (d) or symbolic links (l).", valueName: "TYPE"))
    var type: String?

    @Flag(help: "Print an array of {point, path, type, size, mtime, ...} objects.")
    var json = false

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var keyringOptions: KeyringOptions

    func validate() throws {
        _ = try filter()
    }

    private func filter() throws -> FindFilter {
        func size(_ text: String?, _ option: String) throws -> UInt64? {
            guard let text else { return nil }
            guard let value = ByteCount.parse(text) else { throw ValidationError("\(option) takes a size such as 10M, got '\(text)'") }
            return value
        }
        func date(_ text: String?, _ option: String) throws -> Int64? {
            guard let text else { return nil }
            guard let seconds = DateArgument.parse(text) else {
                throw ValidationError("\(option) takes a UTC date YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS], got '\(text)'")
            }
            return seconds
        }
        let kinds: [String: NodeKind] = ["f": .regular, "d": .directory, "l": .symlink]
        if let type, kinds[type] == nil { throw ValidationError("--type takes f, d or l, got '\(type)'") }
        do {
            return FindFilter(pattern: try FindPattern(pattern), since: try date(since, "--since"), until: try date(until, "--until"),
                              larger: try size(larger, "--larger"), smaller: try size(smaller, "--smaller"), kind: type.flatMap { kinds[$0] })
        } catch let error as RestoreError {
            throw ValidationError("PATTERN: \(error)")
        }
    }

    func run() throws {
        let filter = try filter()
        let store = try storeOptions.open()
        let provider = try keyringOptions.provider()
        let ids = points.isEmpty ? try store.pointIDs() : try points.map { try store.resolvePoint($0) }
        let progress = FindProgress(total: ids.count)
        var output = JSONStream(enabled: json)
        var failures: [any Error] = []
        var seen = SeenSegments()
        for (done, id) in ids.enumerated() {
            progress.show(done)
            let point: OpenedPoint
            do {
                point = try OpenedPoint.open(id, in: store, provider: provider)
            } catch {
                guard case .key = error else { throw error }
                progress.clear()
                Terminal.note("skipping point \(id): \(error)")
                continue
            }
            do {
                var segments = try CatalogStream(point)
                while let segment = try segments.nextSegment() {
                    let matches = try seen.matches(in: segment, filter)
                    if !matches.isEmpty { progress.clear() }
                    for entry in matches {
                        if json {
                            try output.add(FoundJSON(point: id.description, entry))
                        } else {
                            Terminal.print("\(id):\(entry.path)")
                        }
                    }
                }
            } catch let error as CatalogError {
                progress.clear()
                Terminal.error("\(error)")
                failures.append(error)
            }
        }
        progress.clear()
        output.finish()
        if let first = failures.first {
            throw CommandError(status: ExitStatus(for: first) ?? .error,
                               description: "\(failures.count) point\(failures.count == 1 ? "" : "s") could not be searched")
        }
    }
}

/// What `find` keeps of a catalog entry.
struct FindFilter {
    let pattern: FindPattern
    let since: Int64?
    let until: Int64?
    let larger: UInt64?
    let smaller: UInt64?
    let kind: NodeKind?

    func matches(_ entry: CatalogEntry) -> Bool {
        if let kind, entry.kind != kind { return false }
        if let larger, entry.size <= larger { return false }
        if let smaller, entry.size >= smaller { return false }
        if let since, entry.modified.seconds < since { return false }
        if let until, entry.modified.seconds >= until { return false }
        return pattern.matches(entry)
    }
}

/// What a search found in the segments it has decoded, by digest: a point that shares
/// segments with one searched before (its parent, a point of the same disk) costs their
/// decryption only. Bounded: past `limit` remembered entries, segments are decoded anew.
struct SeenSegments {
    static let limit = 1 << 18
    private var found: [[UInt8]: [CatalogEntry]] = [:]
    private var remembered = 0

    mutating func matches(in segment: CatalogSegment, _ filter: FindFilter) throws(CatalogError) -> [CatalogEntry] {
        if let known = found[segment.digest] { return known }
        var records = segment
        var matches: [CatalogEntry] = []
        while let entry = try records.next() {
            if filter.matches(entry) { matches.append(entry) }
        }
        if remembered + matches.count <= Self.limit {
            found[segment.digest] = matches
            remembered += matches.count
        }
        return matches
    }
}

/// A pattern with '/' matches the whole path; one without matches the last name.
enum FindPattern {
    case path(PathPattern)
    case name(ComponentPattern)

    init(_ text: String) throws(RestoreError) {
        self = text.contains("/") ? .path(try PathPattern(text)) : .name(try ComponentPattern(text))
    }

    func matches(_ entry: CatalogEntry) -> Bool {
        switch self {
        case let .path(pattern):
            var names: [FileName] = []
            for component in entry.path.split(separator: "/") {
                guard let name = try? FileName(validating: String(component)) else { return false }
                names.append(name)
            }
            return pattern.matches(names, caseInsensitive: !entry.caseSensitive)
        case let .name(pattern):
            guard let name = try? FileName(validating: String(entry.name)) else { return false }
            return pattern.matches(name, caseInsensitive: !entry.caseSensitive)
        }
    }
}

struct FoundJSON: Encodable {
    let point: String
    let path: String
    let type: String
    let size: UInt64
    let mtime: String
    let mode: Int
    let uid: UInt32
    let gid: UInt32
    /// Why part of the entry could not be read (a volume refused or unsupported); absent when all could.
    let problem: String?

    init(point: String, _ entry: CatalogEntry) {
        self.point = point
        path = entry.path
        type = entry.kind.rawValue
        size = entry.size
        mtime = TimeFormat.rfc3339(entry.modified)
        mode = Int(entry.permissions)
        uid = entry.uid
        gid = entry.gid
        problem = entry.problem
    }
}

/// "find: 120/4000 points" on a terminal while the catalogs are read: on standard error,
/// whether or not the matches go to a terminal too.
struct FindProgress {
    let total: Int
    private let interactive = isatty(STDERR_FILENO) == 1

    init(total: Int) {
        self.total = total
    }

    func show(_ done: Int) {
        guard interactive else { return }
        Terminal.write("\rfind: \(done)/\(total) points\u{1B}[K", to: STDERR_FILENO)
    }

    func clear() {
        guard interactive else { return }
        Terminal.write("\r\u{1B}[K", to: STDERR_FILENO)
    }
}

/// Dates as `find` takes them, in UTC: YYYY-MM-DD, YYYY-MM-DDTHH:MM, YYYY-MM-DDTHH:MM:SS
/// (a space for the T, a trailing Z allowed).
enum DateArgument {
    static func parse(_ text: String) -> Int64? {
        var body = Substring(text)
        if body.hasSuffix("Z") { body = body.dropLast() }
        let parts = body.split(omittingEmptySubsequences: false) { $0 == "T" || $0 == " " }
        guard parts.count <= 2 else { return nil }
        let day = parts[0].split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
        let time = parts.count == 2 ? parts[1].split(separator: ":", omittingEmptySubsequences: false).map { Int($0) } : [0, 0]
        guard day.count == 3, (2 ... 3).contains(time.count), let year = day[0], let month = day[1], let date = day[2],
              (1 ... 12).contains(month), (1 ... 31).contains(date), (1 ... 9999).contains(year) else { return nil }
        let clock = time.compactMap { $0 }
        guard clock.count == time.count, (0 ... 23).contains(clock[0]), (0 ... 59).contains(clock[1]),
              clock.count == 2 || (0 ... 60).contains(clock[2]) else { return nil }
        var fields = tm()
        fields.tm_year = Int32(year - 1900)
        fields.tm_mon = Int32(month - 1)
        fields.tm_mday = Int32(date)
        fields.tm_hour = Int32(clock[0])
        fields.tm_min = Int32(clock[1])
        fields.tm_sec = Int32(clock.count == 3 ? clock[2] : 0)
        return Int64(timegm(&fields))
    }
}
