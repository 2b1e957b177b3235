import Foundation
import TestSupport
import Testing

/// Three points of one VM's ext4 disk, the trees between them changed by real tools, and a
/// fourth point under a KEK that is not available.
final class CatalogLineage: @unchecked Sendable {
    let cli: CLIFixture
    /// The source tree of each point, oldest first.
    var trees: [String] = []
    var ids: [String] = []
    /// The volumes are whole disks: their tree is /disk0/volume.
    static let prefix = "/disk0/volume/"

    init() throws {
        cli = try CLIFixture()
        let directory = cli.directory
        let a = directory.file("tree-a")
        try VMSourceTree.build(at: a)
        try FileManager.default.createDirectory(atPath: "\(a)/etc/nginx", withIntermediateDirectories: true)
        try "listen 80;\n".write(toFile: "\(a)/etc/nginx/site.conf", atomically: true, encoding: .utf8)
        try "mode=a\n".write(toFile: "\(a)/etc/app.conf", atomically: true, encoding: .utf8)
        try "kept as it is\n".write(toFile: "\(a)/srv/notes.txt", atomically: true, encoding: .utf8)

        // B: added, removed, renamed, a one-byte rewrite with its mtime put back, chmod only,
        // chown only, an attribute changed, a hard link added.
        let b = directory.file("tree-b")
        try Shell.check("cp", ["-a", a, b])
        try "new\n".write(toFile: "\(b)/etc/new.conf", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: "\(b)/srv/new-dir", withIntermediateDirectories: true)
        try "x\n".write(toFile: "\(b)/srv/new-dir/x.txt", atomically: true, encoding: .utf8)
        try Shell.check("rm", ["\(b)/etc/empty"])
        try Shell.check("mv", ["\(b)/home/alice/Documents/café ☕.txt", "\(b)/home/alice/Documents/renamed.txt"])
        try Self.rewriteOneByte("\(b)/srv/data/blob.bin", at: 500_000, reference: directory.file("ref-b"))
        try Shell.check("chmod", ["600", "\(b)/etc/app.conf"])
        try Shell.check("chown", ["42:43", "\(b)/etc/nginx/site.conf"])
        try Shell.check("setfattr", ["-n", "user.comment", "-v", "changed", "\(b)/etc/hostname"])
        try Shell.check("ln", ["\(b)/etc/nginx/site.conf", "\(b)/etc/site-link.conf"])

        // C: one more one-byte rewrite, made without --parent (another key domain).
        let c = directory.file("tree-c")
        try Shell.check("cp", ["-a", b, c])
        try Self.rewriteOneByte("\(c)/etc/app.conf", at: 5, reference: directory.file("ref-c"))

        for (name, tree) in [("a", a), ("b", b), ("c", c)] {
            let image = directory.file("\(name).img")
            try Shell.check("mke2fs", ["-q", "-F", "-t", "ext4", "-b", "4096", "-I", "256", "-d", tree, image, "32M"])
            var arguments = ["create", "--kek", "backup", "--disk", image, "--chunk-size", "64K", "--name", "vm1"]
            if name == "b", let parent = ids.last { arguments += ["--parent", parent] }
            let created = try cli.run(arguments)
            guard created.status == 0 else { throw TestFailure("create: \(created.stderr)") }
            ids.append(String(created.stdout.split(separator: "\n").last ?? ""))
            trees.append(tree)
        }
    }

    static func rewriteOneByte(_ path: String, at offset: Int, reference: String) throws {
        try Shell.check("cp", ["-p", path, reference])
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try handle.seek(toOffset: UInt64(offset))
        let old = try handle.read(upToCount: 1)?.first ?? 0
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: Data([old ^ 0x5A]))
        try handle.close()
        try Shell.check("touch", ["-r", reference, path])
    }

    /// Paths the test compares: those from the source tree (not lost+found or the root, which mke2fs makes).
    static func compared(_ path: String) -> Bool {
        path.hasPrefix(prefix) && !path.dropFirst(prefix.count).hasPrefix("lost+found")
    }

    func json(_ arguments: [String]) throws -> [[String: Any]] {
        let out = try cli.expectSuccess(arguments)
        return try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]], "\(out)")
    }

    /// rpfs diff --json A B, as path (relative to the volume) to change.
    func diff(_ a: Int, _ b: Int) throws -> [String: String] {
        var result: [String: String] = [:]
        for object in try json(["diff", "--json", ids[a], ids[b]]) {
            guard let path = object["path"] as? String, let change = object["change"] as? String else { throw TestFailure("\(object)") }
            if Self.compared(path) { result[String(path.dropFirst(Self.prefix.count))] = change }
        }
        return result
    }
}

@Suite(.serialized) struct CatalogCLITests {
    @Test func diffFindAndVersionsMatchTheSourceTrees() throws {
        let lineage = try CatalogLineage()
        let snapshots = try lineage.trees.map { try TreeSnapshot($0) }
        // Exact: the one-byte rewrites kept size and mtime and are still modified; the
        // second diff crosses key domains (C has no parent), so it compares bytes.
        for (a, b) in [(0, 1), (1, 2), (0, 2)] {
            let expected = TreeSnapshot.changes(snapshots[a], snapshots[b])
            #expect(try lineage.diff(a, b) == expected, "diff \(a) \(b)")
        }
        let firstChanges = TreeSnapshot.changes(snapshots[0], snapshots[1])
        #expect(firstChanges["srv/data/blob.bin"] == "modified" && firstChanges["etc/app.conf"] == "metadata")
        #expect(Set(firstChanges.values) == ["added", "removed", "modified", "metadata"])

        // diff under a path, and its text form.
        let under = try lineage.cli.expectSuccess(["diff", lineage.ids[0], lineage.ids[1], CatalogLineage.prefix + "etc/nginx"])
        let expectedUnder = TreeSnapshot.changes(snapshots[0], snapshots[1]).filter { $0.key.hasPrefix("etc/nginx") }
        #expect(Set(under.split(separator: "\n").map(String.init))
            == Set(expectedUnder.map { "\($0.value)\(String(repeating: " ", count: 9 - $0.value.count))\(CatalogLineage.prefix)\($0.key)" }))

        // find: a name pattern across every point, against fnmatch over each tree.
        var found = Set<String>()
        for object in try lineage.json(["find", "--json", "*.conf"]) {
            let point = try #require(object["point"] as? String)
            let path = try #require(object["path"] as? String)
            #expect(object["type"] as? String != nil && object["size"] != nil && object["mtime"] != nil)
            found.insert("\(point):\(path)")
        }
        var truth = Set<String>()
        for (id, snapshot) in zip(lineage.ids, snapshots) {
            for path in snapshot.items.keys where fnmatch("*.conf", (path as NSString).lastPathComponent, 0) == 0 {
                truth.insert("\(id):\(CatalogLineage.prefix)\(path)")
            }
        }
        #expect(found == truth)

        // A path pattern with filters, on one point.
        let filtered = try lineage.cli.expectSuccess(["find", "--point", lineage.ids[1], "/disk0/volume/srv/**", "--type", "f", "--larger", "10"])
        let filterTruth = snapshots[1].items.filter { $0.key.hasPrefix("srv/") && $0.value.kind == S_IFREG && $0.value.size > 10 }
            .map { "\(lineage.ids[1]):\(CatalogLineage.prefix)\($0.key)" }
        #expect(Set(filtered.split(separator: "\n").map(String.init)) == Set(filterTruth))

        // versions, grouped as the trees say.
        for path in ["etc/app.conf", "srv/notes.txt", "srv/data/blob.bin", "etc/new.conf"] {
            var expected: [(points: [String], metadataOnly: Bool)] = []
            var last: TreeSnapshot.Item?
            for (id, snapshot) in zip(lineage.ids, snapshots) {
                guard let item = snapshot.items[path] else { continue }
                if let last, TreeSnapshot.change(last, item) == nil {
                    expected[expected.count - 1].points.append(id)
                } else {
                    expected.append(([id], last.map { TreeSnapshot.change($0, item) == "metadata" } ?? false))
                }
                last = item
            }
            let versions = try lineage.json(["versions", "--json", "\(lineage.ids[2]):\(CatalogLineage.prefix)\(path)"])
            #expect(versions.map { $0["points"] as? [String] ?? [] } == expected.map(\.points), "\(path)")
            #expect(versions.map { $0["metadata_only"] as? Bool ?? false } == expected.map(\.metadataOnly), "\(path)")
        }
    }

    @Test func aDamagedOrMissingCatalogIsNamedAndIndexBuildsItAgain() throws {
        let lineage = try CatalogLineage()
        let id = lineage.ids[1]
        let before = try lineage.diff(0, 1)
        let catalog = lineage.cli.directory.file("store/catalogs/\(id).catalog")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: catalog))
        bytes[bytes.count / 2] ^= 1
        try bytes.write(to: URL(fileURLWithPath: catalog))
        for arguments in [["find", "--point", id, "*"], ["diff", lineage.ids[0], id], ["versions", "\(id):/disk0/volume/etc"]] {
            let damaged = try lineage.cli.run(arguments)
            #expect(damaged.status == 5 && damaged.stderr.contains("catalog of point \(id) is damaged"), "\(arguments): \(damaged.stderr)")
        }

        try FileManager.default.removeItem(atPath: catalog)
        let missing = try lineage.cli.run(["find", "*.conf"])
        #expect(missing.status == 6 && missing.stderr.contains("point \(id) has no catalog"), "\(missing.stderr)")
        // The other points were searched all the same.
        #expect(missing.stdout.contains("\(lineage.ids[0]):") && missing.stdout.contains("\(lineage.ids[2]):"))

        // Built again from the point's chunks, it says what the one create built from the images said.
        #expect(try lineage.cli.expectSuccess(["index", id]).contains("entries catalogued"))
        #expect(try lineage.diff(0, 1) == before)
    }

    @Test func pointsWithoutTheirKEKAreSkippedWithOneNoteEach() throws {
        let lineage = try CatalogLineage()
        try lineage.cli.expectSuccess(["keys", "new", "other", "--bits", "2048"])
        let other = try lineage.cli.create(["--kek", "other"])
        try FileManager.default.removeItem(atPath: lineage.cli.directory.file("keys/other"))
        let result = try lineage.cli.run(["find", "hostname"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.components(separatedBy: "skipping point \(other)").count == 2, "\(result.stderr)")
        #expect(Set(result.stdout.split(separator: "\n").map(String.init)) == Set(lineage.ids.map { "\($0):\(CatalogLineage.prefix)etc/hostname" }))
    }
}
