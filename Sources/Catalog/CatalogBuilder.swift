#if canImport(Glibc)
import Glibc
#endif
import ByteParsing
import PointNamespace
import RecoveryPoint
import VolumeModel

/// Builds a point's catalog from its tree: every path of every volume, in `PathOrder`, from
/// metadata only (attributes, links, extended attributes, where the data lies), never from
/// file data. Memory holds the directories being walked and one segment.
public enum CatalogBuilder {
    public struct Summary: Sendable {
        public var entries = 0
        /// Entries with a `problem` (unreadable volumes, directories, files).
        public var problems = 0
    }

    /// Where a catalog is written before it is stored: `$TMPDIR`, else /tmp.
    static var scratchDirectory: String {
        getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    }

    /// Walks are bounded: a directory met twice (a loop in a damaged volume) is not entered
    /// again, and no path is deeper than this.
    static let maxDepth = 1024

    /// Catalogs `namespace` and stores the catalog beside its point. `progress` gets the
    /// count of entries so far, now and then.
    public static func build(_ namespace: PointNamespace, progress: ((Int) -> Void)? = nil) throws(CatalogError) -> Summary {
        var sink = try Sink(namespace.point, progress: progress)
        try walk(namespace) { (entry, _) throws(CatalogError) in try sink.add(entry) }
        return try sink.finish()
    }

    /// The catalog of a point whose files may not be opened at all (it is flagged as
    /// guest-encrypted): one record for its root, with the reason. Searches find nothing in
    /// it, and say nothing is missing.
    public static func buildRefused(_ point: OpenedPoint, reason: String) throws(CatalogError) -> Summary {
        var sink = try Sink(point, progress: nil)
        var root = CatalogEntry(path: "/", kind: .directory)
        root.permissions = 0o555
        root.problem = reason
        try sink.add(root)
        return try sink.finish()
    }

    /// Records on their way into a point's catalog object, stored once finished.
    private struct Sink {
        let point: OpenedPoint
        let progress: ((Int) -> Void)?
        var writer: CatalogObject.Writer
        var encoder = SegmentEncoder()
        var summary = Summary()

        init(_ point: OpenedPoint, progress: ((Int) -> Void)?) throws(CatalogError) {
            self.point = point
            self.progress = progress
            do {
                writer = try CatalogObject.Writer(point: point, directory: CatalogBuilder.scratchDirectory)
            } catch {
                throw .point(error)
            }
        }

        mutating func add(_ entry: CatalogEntry) throws(CatalogError) {
            try encoder.add(entry, into: &writer)
            summary.entries += 1
            if entry.problem != nil { summary.problems += 1 }
            if summary.entries % 4096 == 0 { progress?(summary.entries) }
        }

        mutating func finish() throws(CatalogError) -> Summary {
            try encoder.finish(into: &writer)
            do {
                try point.storeCatalog(writer)
            } catch {
                throw .point(error)
            }
            return summary
        }
    }

    private struct Frame {
        let path: String
        let entries: [PointNamespace.Entry]
        var next = 0
    }

    /// Every entry below the root, depth first, siblings by name bytes: `PathOrder`; with
    /// each, the error that made part of it unreadable (its `problem`), when one did.
    static func walk(_ namespace: PointNamespace, _ visit: (CatalogEntry, NamespaceError?) throws(CatalogError) -> Void) throws(CatalogError) {
        var stack = [Frame(path: "/", entries: try capture { () throws(NamespaceError) in try sorted(namespace.list(.root, path: "/")) })]
        var entered: Set<UInt64> = []
        while let top = stack.last {
            guard top.next < top.entries.count else {
                stack.removeLast()
                continue
            }
            stack[stack.count - 1].next += 1
            let child = top.entries[top.next]
            let path = PointNamespace.join(top.path, child.name)
            var (entry, failure) = record(child, path: path, in: namespace)
            guard entry.kind == .directory, entry.problem == nil else {
                try visit(entry, failure)
                continue
            }
            if stack.count >= maxDepth {
                entry.problem = "not entered: deeper than \(maxDepth) levels"
            } else if !entered.insert(child.node.number).inserted {
                entry.problem = "not entered: the same directory as an earlier path (a loop in the volume)"
            } else {
                switch Result(catching: { () throws(NamespaceError) in try sorted(namespace.list(child.node, path: path)) }) {
                case let .success(children):
                    try visit(entry, nil)
                    stack.append(Frame(path: path, entries: children))
                    continue
                case let .failure(error):
                    entry.problem = error.description
                    failure = error
                }
            }
            try visit(entry, failure)
        }
    }

    private static func sorted(_ entries: @autoclosure () throws(NamespaceError) -> [PointNamespace.Entry]) throws(NamespaceError) -> [PointNamespace.Entry] {
        // By the names' text, as `PathOrder` compares the paths made of them.
        try entries().sorted { $0.name.description.utf8.lexicographicallyPrecedes($1.name.description.utf8) }
    }

    /// One entry's record; what cannot be read of it becomes its `problem`, and the tree's
    /// error, when it was one, comes with it.
    static func record(_ child: PointNamespace.Entry, path: String, in namespace: PointNamespace) -> (CatalogEntry, NamespaceError?) {
        var entry = CatalogEntry(path: path, kind: child.kind)
        entry.caseSensitive = namespace.caseSensitiveNames(below: child.node)
        guard case let .file(_, inner) = child.node else {
            // The disks and volume directories rpfs makes: no times of their own to compare.
            // A volume that cannot be read gets its reason when the walk lists it.
            entry.permissions = 0o555
            entry.linkCount = 2
            return (entry, nil)
        }
        do throws(CatalogError) {
            let attributes = try capture { () throws(NamespaceError) in try namespace.attributes(child.node, path: path) }
            entry.kind = attributes.kind
            entry.permissions = attributes.permissions
            entry.uid = attributes.uid
            entry.gid = attributes.gid
            entry.size = attributes.size
            entry.node = inner
            entry.linkCount = attributes.linkCount
            entry.accessed = attributes.accessed
            entry.modified = attributes.modified
            entry.changed = attributes.changed
            entry.created = attributes.created
            let attributesList = try capture { () throws(NamespaceError) in
                try namespace.withVolume(child.node, path: path) { reader, node throws(VolumeError) in try reader.extendedAttributes(of: node) }
            }
            entry.attributesDigest = try digest(of: attributesList, point: namespace.point)
            switch attributes.kind {
            case .symlink:
                entry.symlinkTarget = try capture { () throws(NamespaceError) in
                    try namespace.withVolume(child.node, path: path) { reader, node throws(VolumeError) in try reader.symlinkTarget(of: node) }
                }
            case .regular:
                let (placement, pieces) = try capture { () throws(NamespaceError) in try namespace.chunkPieces(of: child.node, path: path) }
                let inline = placement.inline.isEmpty ? [] : try fingerprint(placement.inline, namespace.point)
                entry.content = CatalogContent(encoding: placement.encoding, inlineDigest: inline, pieces: pieces)
            default:
                break
            }
        } catch {
            entry.problem = error.description
            if case let .namespace(failure) = error { return (entry, failure) }
        }
        return (entry, nil)
    }

    private static func capture<T>(_ body: () throws(NamespaceError) -> T) throws(CatalogError) -> T {
        do {
            return try body()
        } catch {
            throw .namespace(error)
        }
    }

    private static func fingerprint(_ bytes: [UInt8], _ point: OpenedPoint) throws(CatalogError) -> [UInt8] {
        do {
            return try point.fingerprint(bytes)
        } catch {
            throw .point(error)
        }
    }

    /// A keyed hash of the attributes' names and values, each length-prefixed; empty for none.
    static func digest(of attributes: [ExtendedAttribute], point: OpenedPoint) throws(CatalogError) -> [UInt8] {
        guard !attributes.isEmpty else { return [] }
        var writer = ByteWriter()
        for attribute in attributes {
            let name = Array(attribute.name.utf8)
            writer.append(UInt32(truncatingIfNeeded: name.count))
            writer.append(bytes: name)
            writer.append(UInt64(attribute.value.count))
            writer.append(bytes: attribute.value)
        }
        return try fingerprint(writer.bytes, point)
    }
}
