import Foundation
import TestSupport

/// What a source tree holds, read with lstat, its bytes and getfattr: the truth that rpfs's
/// catalogs of the volumes made from it are compared with.
struct TreeSnapshot {
    struct Item: Equatable {
        let kind: mode_t
        let mode: mode_t
        let uid: uid_t
        let gid: gid_t
        /// Whole seconds: mke2fs -d keeps no more.
        let mtime: Int
        let links: nlink_t
        let size: Int
        let content: Data?
        let target: String?
        let attributes: String
    }

    /// Relative path ("etc/hostname") to item.
    let items: [String: Item]

    init(_ root: String, attributes: Bool = true) throws {
        var items: [String: Item] = [:]
        guard let walk = FileManager.default.enumerator(atPath: root) else { throw TestFailure("cannot walk \(root)") }
        while let relative = walk.nextObject() as? String {
            let path = "\(root)/\(relative)"
            var info = stat()
            guard lstat(path, &info) == 0 else { throw TestFailure("lstat \(path)") }
            let kind = info.st_mode & S_IFMT
            items[relative] = Item(
                kind: kind, mode: info.st_mode & 0o7777, uid: info.st_uid, gid: info.st_gid, mtime: info.st_mtim.tv_sec,
                links: info.st_nlink, size: Int(info.st_size),
                content: kind == S_IFREG ? try Data(contentsOf: URL(fileURLWithPath: path)) : nil,
                target: kind == S_IFLNK ? try FileManager.default.destinationOfSymbolicLink(atPath: path) : nil,
                attributes: attributes ? try Shell.check("getfattr", ["-h", "-d", "-m", "-", "--absolute-names", path])
                    .split(separator: "\n").dropFirst().joined(separator: "\n") : "")
        }
        self.items = items
    }

    /// How `b` differs from `a`, as `rpfs diff` names it; nil when it does not.
    static func change(_ a: Item, _ b: Item) -> String? {
        if a.kind != b.kind || a.content != b.content { return "modified" }
        if a.mode != b.mode || a.uid != b.uid || a.gid != b.gid || a.mtime != b.mtime || a.links != b.links
            || a.target != b.target || a.attributes != b.attributes { return "metadata" }
        return nil
    }

    /// Every path that differs from `a` to `b`, with its change.
    static func changes(_ a: TreeSnapshot, _ b: TreeSnapshot) -> [String: String] {
        var result: [String: String] = [:]
        for (path, item) in a.items {
            guard let other = b.items[path] else {
                result[path] = "removed"
                continue
            }
            result[path] = change(item, other)
        }
        for path in b.items.keys where a.items[path] == nil { result[path] = "added" }
        return result
    }
}
