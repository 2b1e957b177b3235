import PointNamespace
import VolumeModel

/// The point's tree as the web views see it: nodes found by validated names (bytes, so names
/// that are not UTF-8 are reachable), through `PointNamespace`'s public lookups only.
struct PointTree: Sendable {
    let namespace: PointNamespace

    struct Item: Sendable {
        let node: PointNamespace.Node
        let attributes: NodeAttributes
        let components: [FileName]
        /// The path in the point, for errors.
        let path: String
    }

    struct Child: Sendable {
        let name: FileName
        let item: Item
    }

    func item(_ components: [FileName]) throws(NamespaceError) -> Item {
        var node = PointNamespace.Node.root
        var path = ""
        for name in components {
            path = PointNamespace.join(path.isEmpty ? "/" : path, name)
            node = try namespace.lookup(name, in: node, path: path)
        }
        let full = path.isEmpty ? "/" : path
        return Item(node: node, attributes: try namespace.attributes(node, path: full), components: components, path: full)
    }

    /// A directory's entries with their attributes, in byte order of their names.
    func children(of item: Item) throws(NamespaceError) -> [Child] {
        var children: [Child] = []
        for entry in try namespace.list(item.node, path: item.path).sorted(by: { $0.name < $1.name }) {
            let path = PointNamespace.join(item.path, entry.name)
            let attributes = try namespace.attributes(entry.node, path: path)
            children.append(Child(name: entry.name, item: Item(node: entry.node, attributes: attributes,
                                                                components: item.components + [entry.name], path: path)))
        }
        return children
    }

    /// Why a volume directory has no contents, when it is one that cannot be read.
    func unavailableReason(_ item: Item) -> String? {
        guard case .unavailableVolume = item.node else { return nil }
        do {
            _ = try namespace.list(item.node, path: item.path)
            return nil
        } catch {
            return error.description
        }
    }

    /// A strong validator: a point never changes, so its id and the node number name one
    /// content for good.
    func entityTag(_ item: Item) -> String {
        "\"\(namespace.pointID.prefix(16))-\(String(item.node.number, radix: 16))\""
    }
}
