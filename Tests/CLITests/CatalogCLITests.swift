import Foundation
import TestSupport
import Testing

/// Four points of one VM's ext4 disk, the trees between them changed by real tools (the
/// fourth of the same disk as the third).
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
        // D: C's disk again, as its child: its catalog's segments are C's, which find reuses.
        let d = try cli.run(["create", "--kek", "backup", "--disk", directory.file("c.img"), "--chunk-size", "64K", "--name", "vm1", "--parent", ids[2]])
        guard d.status == 0 else { throw TestFailure("create: \(d.stderr)") }
        ids.append(String(d.stdout.split(separator: "\n").last ?? ""))
        trees.append(c)
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

/// NTFS volumes filled through ntfs-3g, two points in two key domains: every comparison the
/// fingerprints cannot settle is settled by the bytes.
@Suite struct NTFSCatalogTests {
    @Test func diffOfTwoNTFSPointsMatchesTheirSourceTrees() throws {
        let cli = try CLIFixture()
        let directory = cli.directory
        var random = SeededBytes(seed: 33)
        let a = directory.file("ntfs-a")
        try FileManager.default.createDirectory(atPath: "\(a)/Docs/sub", withIntermediateDirectories: true)
        try Data(random.bytes(300_000)).write(to: URL(fileURLWithPath: "\(a)/Docs/report.bin"))
        try Data(random.bytes(2_000_000)).write(to: URL(fileURLWithPath: "\(a)/Docs/big.bin"))
        try "resident\r\n".write(toFile: "\(a)/Docs/notes.txt", atomically: true, encoding: .utf8)
        try "kept\r\n".write(toFile: "\(a)/Docs/sub/keep.txt", atomically: true, encoding: .utf8)
        let b = directory.file("ntfs-b")
        try Shell.check("cp", ["-a", a, b])
        try CatalogLineage.rewriteOneByte("\(b)/Docs/report.bin", at: 123_456, reference: directory.file("ref"))
        try CatalogLineage.rewriteOneByte("\(b)/Docs/sub/keep.txt", at: 0, reference: directory.file("ref2"))
        try Shell.check("rm", ["\(b)/Docs/notes.txt"])
        try "new\r\n".write(toFile: "\(b)/Docs/new.txt", atomically: true, encoding: .utf8)

        var ids: [String] = []
        for (name, tree) in [("a", a), ("b", b)] {
            // Every time set alike, so only content and presence differ.
            let image = try NTFSImageBuilder.make(in: directory, name: "\(name).img", size: 16 << 20, cluster: 4096, fill: """
                cp -r '\(tree)'/. "$1"/
                find "$1" -exec touch -d '2024-01-02 03:04:05 UTC' {} +
                """)
            let created = try cli.expectSuccess(["create", "--kek", "backup", "--disk", image, "--chunk-size", "64K", "--name", "win"])
            ids.append(String(created.split(separator: "\n").last ?? ""))
        }
        let truth = TreeSnapshot.changes(try TreeSnapshot(a, attributes: false), try TreeSnapshot(b, attributes: false))
            .filter { $0.value != "metadata" }
        #expect(truth == ["Docs/report.bin": "modified", "Docs/sub/keep.txt": "modified", "Docs/notes.txt": "removed", "Docs/new.txt": "added"])
        var reported: [String: String] = [:]
        let out = try cli.expectSuccess(["diff", "--json", ids[0], ids[1], "/disk0/volume/Docs"])
        for object in try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: String]]) {
            guard let path = object["path"], let change = object["change"] else { continue }
            reported[String(path.dropFirst("/disk0/volume/".count))] = change
        }
        #expect(reported == truth, "\(reported)")
    }
}

/// The catalog through an S3 store (rclone serve s3): written by create, read by find and
/// diff, kept in the object cache like chunks.
@Suite struct ObjectStoreCatalogTests {
    @Test func theCatalogIsStoredBesideThePointAndCached() throws {
        let point = try S3Point()
        #expect(try point.objects(under: "catalogs") == ["\(point.id).catalog"])
        let found = try point.run(["find", "hostname"])
        #expect(found.status == 0 && found.stdout == "\(point.id):/disk0/part1/etc/hostname\n", "\(found.stderr)")
        let source = point.ext4.source
        let names = try Shell.check("find", [source, "-name", "*.bin", "-printf", "/disk0/part1/%P\n"]).split(separator: "\n").map { "\(point.id):\($0)" }
        let bins = try point.run(["find", "*.bin"])
        #expect(Set(bins.stdout.split(separator: "\n").map(String.init)) == Set(names), "\(bins.stderr)")
        // A second search reads the catalog from the cache: with the server's copy damaged it still answers.
        let stored = "\(point.s3.root)/backups/vm1/catalogs/\(point.id).catalog"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: stored))
        bytes[bytes.count - 1] ^= 1
        try bytes.write(to: URL(fileURLWithPath: stored))
        #expect(try point.run(["find", "hostname"]).stdout == found.stdout)
        // Without the cache, the damaged object is named.
        let uncached = try point.run(["find", "hostname", "--cache-max", "0"])
        #expect(uncached.status == 5 && uncached.stderr.contains("catalog of point \(point.id) is damaged"), "\(uncached.stderr)")
    }
}
