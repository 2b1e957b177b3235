import PointNamespace
import RecoveryPoint
import VolumeModel

/// How a path differs between two points.
public enum Change: String, Sendable {
    case added, removed
    /// Its content or its type changed.
    case modified
    /// Same content; mode, owner, modification time, link count, extended attributes or link
    /// target differ. Access and change times are left out: reading a file or copying a tree
    /// moves them without changing anything a restore would bring back.
    case metadata

    /// How `b` differs from `a` (the same path in two points); nil when it does not.
    public static func between(_ a: CatalogEntry, in pointA: CatalogPoint, _ b: CatalogEntry, in pointB: CatalogPoint) throws(CatalogError) -> Change? {
        guard a.kind == b.kind, a.problem == b.problem else { return .modified }
        if a.kind == .regular, !(try ContentComparison.sameContent(a, in: pointA, b, in: pointB)) { return .modified }
        guard a.permissions == b.permissions, a.uid == b.uid, a.gid == b.gid, a.modified == b.modified,
              a.linkCount == b.linkCount, a.symlinkTarget == b.symlinkTarget else { return .metadata }
        return try sameAttributes(a, in: pointA, b, in: pointB) ? nil : .metadata
    }

    /// Attribute digests compare within one key domain; across domains the attributes are read.
    private static func sameAttributes(_ a: CatalogEntry, in pointA: CatalogPoint, _ b: CatalogEntry, in pointB: CatalogPoint) throws(CatalogError) -> Bool {
        if a.attributesDigest.isEmpty || b.attributesDigest.isEmpty || pointA.point.domain == pointB.point.domain {
            return a.attributesDigest == b.attributesDigest
        }
        return try attributes(a.path, pointA) == attributes(b.path, pointB)
    }

    private static func attributes(_ path: String, _ point: CatalogPoint) throws(CatalogError) -> [ExtendedAttribute] {
        let tree = try point.namespace()
        do {
            return try tree.withVolume(try tree.resolve(path), path: path) { reader, node throws(VolumeError) in try reader.extendedAttributes(of: node) }
        } catch {
            throw .namespace(error)
        }
    }
}

/// Differences between two points' catalogs, by a merge walk of both record streams: memory
/// holds one segment of each, whatever the catalogs' sizes. Paths come in `PathOrder`.
public struct CatalogDiff {
    public struct Difference: Sendable, Equatable {
        public let path: String
        public let change: Change
    }

    private let a: CatalogPoint
    private let b: CatalogPoint
    private let base: String?
    private var left: CatalogStream
    private var right: CatalogStream
    private var nextA: CatalogEntry?
    private var nextB: CatalogEntry?

    /// The paths at or under `prefix` (everything when nil) that differ from `a` to `b`.
    public init(_ a: CatalogPoint, _ b: CatalogPoint, under prefix: String?) throws(CatalogError) {
        self.a = a
        self.b = b
        let trimmed = prefix.map { $0.count > 1 && $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        base = trimmed == "/" ? nil : trimmed
        left = try a.entries()
        right = try b.entries()
        nextA = try left.next()
        nextB = try right.next()
    }

    private func included(_ entry: CatalogEntry) -> Bool {
        guard let base else { return true }
        return entry.path == base || entry.path.hasPrefix(base + "/")
    }

    /// The next difference; nil when both catalogs are walked.
    public mutating func next() throws(CatalogError) -> Difference? {
        while nextA != nil || nextB != nil {
            var found: Difference?
            if let entryA = nextA, nextB.map({ PathOrder.precedes(entryA.path, $0.path) }) ?? true {
                if included(entryA) { found = Difference(path: entryA.path, change: .removed) }
                nextA = try left.next()
            } else if let entryB = nextB, nextA.map({ PathOrder.precedes(entryB.path, $0.path) }) ?? true {
                if included(entryB) { found = Difference(path: entryB.path, change: .added) }
                nextB = try right.next()
            } else if let entryA = nextA, let entryB = nextB {
                if included(entryA), let change = try Change.between(entryA, in: a, entryB, in: b) {
                    found = Difference(path: entryA.path, change: change)
                }
                nextA = try left.next()
                nextB = try right.next()
            }
            if let found { return found }
        }
        return nil
    }
}

/// The distinct versions of one path across points, oldest first.
public enum PathVersions {
    public struct Version: Sendable {
        /// The points that hold this version, in the order given.
        public var points: [PointID]
        public let entry: CatalogEntry
        /// It differs from the version before only in metadata.
        public let metadataOnly: Bool
    }

    /// `points` oldest first; points whose catalog has no `path` are left out.
    public static func of(_ path: String, in points: [CatalogPoint]) throws(CatalogError) -> [Version] {
        var versions: [Version] = []
        var previous: (entry: CatalogEntry, point: CatalogPoint)?
        for point in points {
            guard let entry = try point.entry(at: path) else { continue }
            if let last = previous {
                if let change = try Change.between(last.entry, in: last.point, entry, in: point) {
                    versions.append(Version(points: [point.id], entry: entry, metadataOnly: change == .metadata))
                } else {
                    versions[versions.count - 1].points.append(point.id)
                }
            } else {
                versions.append(Version(points: [point.id], entry: entry, metadataOnly: false))
            }
            previous = (entry, point)
        }
        return versions
    }
}
