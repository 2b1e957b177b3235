import PointNamespace
import VolumeModel

/// Walks a tree of a point depth first, each directory's entries in byte order of their
/// names, a directory before its contents. It holds the entries of the directories it is in,
/// not the tree: memory grows with depth and directory size, never with the whole tree.
struct ArchiveWalk {
    /// The longest member path rpfs writes: Linux's PATH_MAX, what any extractor here can
    /// create. Past it lies a directory loop in a corrupt volume, which would never end.
    static let maxPathBytes = 4096

    let namespace: PointNamespace

    /// Hands `visit` every node from `node` (at `path`) down. The root member is `name`; with
    /// no name (the point's root) its entries are the top members.
    func walk(from node: PointNamespace.Node, _ attributes: NodeAttributes, name top: [UInt8]?, path: String,
              _ visit: (ArchiveMember) throws(ArchiveError) -> Void) throws(ArchiveError) {
        var stack: [(entries: [PointNamespace.Entry], next: Int, name: [UInt8], path: String)] = []
        if let top {
            let member = ArchiveMember(name: top, baseName: top, node: node, attributes: attributes, path: path)
            try visit(member)
            guard attributes.kind == .directory else { return }
        }
        stack.append((try entries(node, path), 0, top ?? [], path))
        while let last = stack.indices.last {
            let (entries, next, directoryName, directoryPath) = stack[last]
            guard next < entries.count else {
                stack.removeLast()
                continue
            }
            stack[last].next += 1
            let entry = entries[next]
            let name = directoryName.isEmpty ? entry.name.bytes : directoryName + [UInt8(ascii: "/")] + entry.name.bytes
            let childPath = PointNamespace.join(directoryPath, entry.name)
            guard name.count < Self.maxPathBytes else { throw .pathTooLong(childPath) }
            let childAttributes = try source { () throws(NamespaceError) in try namespace.attributes(entry.node, path: childPath) }
            try visit(ArchiveMember(name: name, baseName: entry.name.bytes, node: entry.node, attributes: childAttributes, path: childPath))
            if childAttributes.kind == .directory {
                stack.append((try self.entries(entry.node, childPath), 0, name, childPath))
            }
        }
    }

    private func entries(_ node: PointNamespace.Node, _ path: String) throws(ArchiveError) -> [PointNamespace.Entry] {
        try source { () throws(NamespaceError) in try namespace.list(node, path: path).sorted { $0.name < $1.name } }
    }
}

func source<T>(_ body: () throws(NamespaceError) -> T) throws(ArchiveError) -> T {
    do {
        return try body()
    } catch {
        throw .source(error)
    }
}
