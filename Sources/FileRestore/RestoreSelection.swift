import PointNamespace
import VolumeModel

/// What a plan selects in a point, and where each thing goes. Walks only what the patterns
/// need: a literal component is one lookup (by the volume's own name rules), a wildcard
/// lists one directory, and `**` walks below it. Symlinks in the point are never followed.
struct RestoreSelection {
    struct Item {
        let pointPath: String
        let node: PointNamespace.Node
        let attributes: NodeAttributes
        /// Relative to the restore's destination; never empty.
        let destination: [FileName]
        /// The last component of `destination`: the name the item is written as.
        let name: FileName

        /// nil for an empty destination (the point's root has no name to be written as).
        init?(pointPath: String, node: PointNamespace.Node, attributes: NodeAttributes, destination: [FileName]) {
            guard let name = destination.last else { return nil }
            self.pointPath = pointPath
            self.node = node
            self.attributes = attributes
            self.destination = destination
            self.name = name
        }
    }

    /// A directory of the destination made for a directory of the point: it takes that
    /// directory's metadata once everything below it is written.
    struct DirectorySource {
        let pointPath: String
        let node: PointNamespace.Node
    }

    /// Sorted by destination, so everything below a directory comes together.
    private(set) var items: [Item] = []
    private(set) var directories: [[FileName]: DirectorySource] = [:]
    /// Patterns that matched nothing.
    private(set) var unmatched: [String] = []
    /// Places the walk could not read (a damaged directory, a volume named in a path that
    /// cannot be read).
    private(set) var failures: [(path: String, reason: String)] = []
    /// Volumes without files to restore (swap, unsupported kinds) that a pattern swept over.
    private(set) var notes: [String] = []

    private let namespace: PointNamespace
    private let plan: RestorePlan
    /// Destination → the point path restored there.
    private var taken: [[FileName]: String] = [:]
    /// Things selected by the entry being expanded, duplicates included.
    private var matched = 0

    /// A cycle or a hostile image cannot make the walk endless: paths deeper than any real
    /// filesystem allows are reported, not followed.
    static let maxDepth = 2048

    init(plan: RestorePlan, namespace: PointNamespace) {
        self.namespace = namespace
        self.plan = plan
        for index in plan.entries.indices {
            matched = 0
            expand(index, .root, path: [], nodes: [], at: 0)
            if matched == 0, !failures.contains(where: { $0.path.hasPrefix(Self.literalPrefix(plan.entries[index].pattern)) }) {
                unmatched.append(plan.entries[index].pattern.description)
            }
        }
        items.sort { $0.destination.lexicographicallyPrecedes($1.destination) }
    }

    private static func literalPrefix(_ pattern: PathPattern) -> String {
        "/" + pattern.components.prefix(pattern.literalPrefixCount).map { if case let .pattern(p) = $0 { p.description } else { "" } }.joined(separator: "/")
    }

    private static func pathText(_ path: [FileName]) -> String {
        "/" + path.map(\.description).joined(separator: "/")
    }

    // MARK: Pattern walk

    private mutating func expand(_ entry: Int, _ node: PointNamespace.Node, path: [FileName], nodes: [PointNamespace.Node], at index: Int) {
        let pattern = plan.entries[entry].pattern
        guard path.count <= Self.maxDepth else {
            failures.append((Self.pathText(path), "deeper than \(Self.maxDepth) levels: not followed"))
            return
        }
        let here = nodes + [node]
        guard index < pattern.components.count else {
            select(entry, node, path: path, nodes: here, subtree: true)
            return
        }
        let caseInsensitive = !namespace.caseSensitiveNames(below: node)
        switch pattern.components[index] {
        case .anyDepth:
            expand(entry, node, path: path, nodes: nodes, at: index + 1)
            // A trailing ** selected the whole subtree just now.
            guard index + 1 < pattern.components.count else { return }
            for child in children(of: node, path: path) where child.kind == .directory {
                expand(entry, child.node, path: path + [child.name], nodes: here, at: index)
            }
        case let .pattern(component):
            if let literal = component.literal, let name = try? FileName(validating: literal) {
                let childPath = path + [name]
                do {
                    let child = try namespace.lookup(name, in: node, path: Self.pathText(childPath))
                    // The name as stored (a case-insensitive lookup may have been asked "users" for "Users").
                    let stored = storedName(of: child, in: node, path: path) ?? name
                    expand(entry, child, path: path + [stored], nodes: here, at: index + 1)
                } catch {
                    if !Self.isAbsence(error) { failures.append((Self.pathText(childPath), error.description)) }
                }
            } else {
                for child in children(of: node, path: path) where component.matches(child.name, caseInsensitive: caseInsensitive) {
                    expand(entry, child.node, path: path + [child.name], nodes: here, at: index + 1)
                }
            }
        }
    }

    /// A node's own name, for case-insensitive volumes where the plan's spelling may differ.
    private func storedName(of child: PointNamespace.Node, in directory: PointNamespace.Node, path: [FileName]) -> FileName? {
        guard !namespace.caseSensitiveNames(below: directory) else { return nil }
        return children(of: directory, path: path).first { $0.node == child }?.name
    }

    private static func isAbsence(_ error: NamespaceError) -> Bool {
        switch error {
        case .notFound, .notADirectory: true
        case let .volume(_, inner):
            switch inner {
            case .notFound, .notADirectory: true
            default: false
            }
        default: false
        }
    }

    private func children(of node: PointNamespace.Node, path: [FileName]) -> [PointNamespace.Entry] {
        (try? namespace.list(node, path: Self.pathText(path))) ?? []
    }

    // MARK: Selection

    private mutating func select(_ entry: Int, _ node: PointNamespace.Node, path: [FileName], nodes: [PointNamespace.Node], subtree: Bool) {
        let spec = plan.entries[entry]
        let text = Self.pathText(path)
        let caseInsensitive = !namespace.caseSensitiveNames(below: nodes.count > 1 ? nodes[nodes.count - 2] : node)
        let excluded = plan.exclude.contains { $0.matches(path, caseInsensitive: caseInsensitive) }
            || spec.exclude.contains { $0.matches(path, caseInsensitive: caseInsensitive) }
        if excluded { return }
        let attributes: NodeAttributes
        do {
            attributes = try namespace.attributes(node, path: text)
        } catch {
            failures.append((text, error.description))
            return
        }
        guard let item = Item(pointPath: text, node: node, attributes: attributes, destination: destination(of: path, entry: spec)) else {
            failures.append((text, "has no name to restore it under: give a path below the point's root"))
            return
        }
        if attributes.kind == .directory {
            // With include filters, directories appear only as the parents of included files.
            if spec.include.isEmpty { add(item, nodes: nodes, spec: spec) }
            guard subtree else { return }
            let listing: [PointNamespace.Entry]
            do {
                listing = try namespace.list(node, path: text)
            } catch .volumeUnavailable(let volume, let reason) {
                // What the point holds (a swap partition, say), as ls says it: not a failure.
                notes.append("\(volume): \(reason)")
                return
            } catch {
                failures.append((text, error.description))
                return
            }
            guard path.count < Self.maxDepth else {
                failures.append((text, "deeper than \(Self.maxDepth) levels: not followed"))
                return
            }
            for child in listing {
                select(entry, child.node, path: path + [child.name], nodes: nodes + [child.node], subtree: true)
            }
        } else {
            guard spec.include.isEmpty || spec.include.contains(where: { $0.matches(path, caseInsensitive: caseInsensitive) }) else { return }
            add(item, nodes: nodes, spec: spec)
        }
    }

    /// Where a selected path goes: its path in the point, or the entry's "to" followed by
    /// the path below the pattern's fixed part (the parent, for a pattern without wildcards).
    private func destination(of path: [FileName], entry: RestorePlan.Entry) -> [FileName] {
        guard let base = entry.destination else { return path }
        return base + path.dropFirst(baseCount(entry))
    }

    private func baseCount(_ entry: RestorePlan.Entry) -> Int {
        let fixed = entry.pattern.literalPrefixCount
        return fixed == entry.pattern.components.count ? max(0, fixed - 1) : fixed
    }

    private mutating func add(_ item: Item, nodes: [PointNamespace.Node], spec: RestorePlan.Entry) {
        matched += 1
        if let earlier = taken[item.destination] {
            if earlier != item.pointPath {
                failures.append((item.pointPath, "not restored: its destination \(item.destination.map(\.description).joined(separator: "/")) is already taken by \(earlier)"))
            }
            return
        }
        taken[item.destination] = item.pointPath
        items.append(item)
        if item.attributes.kind == .directory {
            // A directory selected itself carries its own metadata.
            directories[item.destination] = DirectorySource(pointPath: item.pointPath, node: item.node)
        }
        // Each destination directory above the item that stands for a directory of the point.
        let pointOffset = spec.destination.map { baseCount(spec) - $0.count } ?? 0
        for length in stride(from: item.destination.count - 1, through: 1, by: -1) {
            let pointIndex = length + pointOffset
            guard pointIndex >= 1, pointIndex <= nodes.count - 1, spec.destination.map({ length > $0.count }) ?? true else { break }
            let prefix = Array(item.destination.prefix(length))
            if directories[prefix] != nil { continue }
            let pointPath = "/" + item.pointPath.split(separator: "/").prefix(pointIndex).joined(separator: "/")
            directories[prefix] = DirectorySource(pointPath: pointPath, node: nodes[pointIndex])
        }
    }
}
