import Foundation
import TestSupport
import Testing

/// The ext4 point of `Ext4Point`, made again into an S3 store served by rclone on loopback,
/// optionally through the fault-injecting proxy. Every command runs through the CLI.
final class S3Point: @unchecked Sendable {
    let ext4: Ext4Point
    let s3: S3Server
    let proxy: StoreProxy?
    let store = "s3://backups/vm1"
    private(set) var id = ""

    init(proxied: Bool = false) throws {
        ext4 = try Ext4Point()
        s3 = try S3Server(in: ext4.cli.directory)
        proxy = proxied ? try StoreProxy(in: ext4.cli.directory, upstream: s3.server.port) : nil
        let created = try run(["create", "--kek", "backup", "--disk", ext4.disk, "--chunk-size", "64K"])
        guard created.status == 0 else { throw TestFailure("create into S3: \(created.stderr)") }
        id = String(created.stdout.split(separator: "\n").last ?? "")
    }

    var directory: TemporaryDirectory { ext4.cli.directory }

    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var environment = ext4.cli.environment.merging(s3.environment(endpoint: proxy?.endpoint)) { $1 }
        environment["RPFS_STORE"] = store
        environment["XDG_CACHE_HOME"] = directory.file("cache")
        return environment.merging(extra) { $1 }
    }

    func run(_ arguments: [String], _ extra: [String: String] = [:]) throws -> CommandResult {
        try Shell.run(rpfsBinary, arguments, environment: environment(extra))
    }

    /// The object files rclone keeps for the store, relative to it.
    func objects(under folder: String) throws -> [String] {
        try FileManager.default.subpathsOfDirectory(atPath: "\(s3.root)/backups/vm1/\(folder)")
    }
}

private func sha256(_ path: String) throws -> String {
    String(try Shell.check("sha256sum", [path]).prefix(64))
}

@Suite(.serialized) struct ObjectStoreTests {
    @Test func everyCommandWorksAgainstAnS3Server() throws {
        let point = try S3Point()
        #expect(try point.objects(under: "points") == ["\(point.id).point"])
        #expect(try point.run(["points"]).stdout.contains(point.id))
        let inspect = try point.run(["inspect", point.id])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("ext4"))
        let verify = try point.run(["verify", point.id])
        #expect(verify.status == 0 && verify.stdout.contains("all authentic"), "\(verify.stdout)\(verify.stderr)")

        // cp -R of the whole volume, compared with the source tree.
        let out = point.directory.file("out")
        let copy = try point.run(["cp", "-R", "\(point.id):/disk0/part1", out])
        #expect(copy.status == 0, "\(copy.stderr)")
        let diff = try Shell.run("diff", ["-r", "--no-dereference", point.ext4.source, out])
        let unexpected = diff.stdout.split(separator: "\n").filter { !$0.hasPrefix("Only in \(out): lost+found") && !$0.contains("pipe") }
        #expect(unexpected.isEmpty, "\(unexpected)")

        // restore and its report's digest against sha256sum of the source.
        let restored = point.directory.file("restored")
        let restore = try point.run(["restore", point.id, "--to", restored, "--json", "/disk0/part1/srv/data/blob.bin"])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(restore.stdout.contains(try sha256("\(point.ext4.source)/srv/data/blob.bin")))

        // rewrap writes the point file again; the point still opens with the new version.
        #expect(try point.run(["keys", "new", "backup", "--bits", "2048"]).status == 0)
        let rewrap = try point.run(["rewrap", point.id, "--kek", "backup/2"])
        #expect(rewrap.status == 0, "\(rewrap.stderr)")
        let ls = try point.run(["ls", "\(point.id):/disk0/part1/etc"])
        #expect(ls.status == 0 && ls.stdout.contains("hostname"), "\(ls.stderr)")
        #expect(try point.run(["inspect", point.id]).stdout.contains("backup/2"))

        // A mount reads the same bytes.
        let mountpoint = point.directory.file("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        let mount = try point.run(["mount", point.id, mountpoint])
        #expect(mount.status == 0, "\(mount.stderr)")
        defer { _ = try? Shell.run("fusermount3", ["-uz", mountpoint]) }
        #expect(try sha256("\(mountpoint)/disk0/part1/srv/data/blob.bin") == (try sha256("\(point.ext4.source)/srv/data/blob.bin")))
        #expect(try point.run(["unmount", mountpoint]).status == 0)
    }

    @Test func aSecondPointUploadsOnlyWhatTheStoreLacks() throws {
        let point = try S3Point(proxied: true)
        try point.proxy?.clearLog()
        let second = try point.run(["create", "--kek", "backup", "--disk", point.ext4.disk, "--chunk-size", "64K", "--parent", point.id])
        #expect(second.status == 0, "\(second.stderr)")
        let puts = try #require(point.proxy).requests().filter { $0.hasPrefix("PUT ") }
        // A child point shares its parent's chunk keys: every chunk is already there (HEAD
        // finds it), and only the new point file and its catalog are written.
        #expect(puts.count == 2 && puts.first?.contains("/points/") == true && puts.last?.contains("/catalogs/") == true, "\(puts)")
        #expect(try point.objects(under: "points").count == 2)
    }

    @Test func anHTTPSStoreReadsWithRangesAndKeepsItsQueryOutOfMessages() throws {
        let point = try Ext4Point()
        let web = try TLSWebServer(in: point.cli.directory, root: point.cli.directory.file("store"))
        let url = "\(web.url)/?sv=2024-01-01&sig=TOPSECRETSIGNATURE"
        var environment = point.cli.environment
        environment["RPFS_STORE"] = url
        environment["RPFS_CA_FILE"] = web.caFile
        environment["XDG_CACHE_HOME"] = point.cli.directory.file("cache")
        let run = { (arguments: [String]) in try Shell.run(rpfsBinary, arguments, environment: environment) }

        let out = point.cli.directory.file("blob.bin")
        let copy = try run(["cp", "\(point.id):/disk0/part1/srv/data/blob.bin", out])
        #expect(copy.status == 0, "\(copy.stderr)")
        #expect(try sha256(out) == (try sha256("\(point.source)/srv/data/blob.bin")))
        let inspect = try run(["inspect", point.id])
        #expect(inspect.status == 0, "\(inspect.stderr)")

        // No listing over plain HTTPS: a usage error that says to give the full id.
        let points = try run(["points"])
        #expect(points.status == 2 && points.stderr.contains("full id"), "\(points.stderr)")
        let prefix = try run(["ls", String(point.id.prefix(8))])
        #expect(prefix.status == 2, "\(prefix.stderr)")
        // Writing is refused.
        let create = try run(["create", "--kek", "backup", "--disk", point.cli.directory.file("disk.img")])
        #expect(create.status == 2 && create.stderr.contains("read-only"), "\(create.stderr)")
        // Without the test CA the server is not trusted.
        environment["RPFS_CA_FILE"] = nil
        let untrusted = try run(["ls", "\(point.id):/"])
        #expect(untrusted.status == 1 && untrusted.stderr.contains("certificate"), "\(untrusted.stderr)")
        for result in [copy, inspect, points, prefix, untrusted, create] {
            #expect(!(result.stdout + result.stderr).contains("TOPSECRET"), "the signature reached the output")
        }
        #expect(points.stderr.contains("sig=…"), "\(points.stderr)")
    }

    @Test func transientFaultsAreRetriedAndNeverServeWrongBytes() throws {
        let point = try S3Point(proxied: true)
        let proxy = try #require(point.proxy)
        let source = try sha256("\(point.ext4.source)/srv/data/blob.bin")
        for mode in ["status:503", "status:429", "status:500", "drop", "down"] {
            try proxy.clearLog()
            try proxy.inject(mode, count: 2, match: "/chunks/")
            let out = point.directory.file("blob-\(mode)")
            let copy = try point.run(["cp", "\(point.id):/disk0/part1/srv/data/blob.bin", out, "--cache-max", "0"])
            #expect(copy.status == 0, "\(mode): \(copy.stderr)")
            #expect(try sha256(out) == source, "\(mode)")
            #expect(try proxy.requests().filter { $0.contains("/chunks/") }.count >= 3, "\(mode): no retry seen")
        }
        // A transfer that stalls is abandoned after RPFS_HTTP_TIMEOUT seconds and tried again.
        try proxy.inject("stall", count: 1, match: "/chunks/")
        let out = point.directory.file("blob-stall")
        let stalled = try point.run(["cp", "\(point.id):/disk0/part1/srv/data/blob.bin", out, "--cache-max", "0"], ["RPFS_HTTP_TIMEOUT": "2"])
        #expect(stalled.status == 0, "\(stalled.stderr)")
        #expect(try sha256(out) == source)
    }

    @Test func aStoreThatStaysDownFailsTheCopyCleanlyAfterBoundedRetries() throws {
        let point = try S3Point(proxied: true)
        let proxy = try #require(point.proxy)
        try proxy.inject("status:503", match: "/chunks/")
        try proxy.clearLog()
        let destination = point.directory.file("dest")
        try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
        let copy = try point.run(["cp", "\(point.id):/disk0/part1/srv/data/blob.bin", destination, "--cache-max", "0"], ["RPFS_HTTP_RETRIES": "3"])
        #expect(copy.status == 1, "\(copy.stderr)")
        #expect(copy.stderr.contains("HTTP 503") && copy.stderr.contains("gave up after 3 attempts"), "\(copy.stderr)")
        #expect(copy.stderr.contains("chunk"), "\(copy.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: destination).isEmpty, "a partial file was left")
        // Three attempts for the one chunk that failed, then no more.
        let gets = try proxy.requests().filter { $0.hasPrefix("GET") && $0.contains("/chunks/") }
        #expect(gets.count == 3, "\(gets)")
    }

    @Test func theMountAnswersEIODuringAnOutageAndServesAgainAfterIt() throws {
        let point = try S3Point(proxied: true)
        let proxy = try #require(point.proxy)
        let mountpoint = point.directory.file("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        let mount = try point.run(["mount", point.id, mountpoint, "--cache-max", "0", "--log-file", point.directory.file("daemon.log")],
                                  ["RPFS_HTTP_RETRIES": "2"])
        #expect(mount.status == 0, "\(mount.stderr)")
        defer { _ = try? Shell.run("fusermount3", ["-uz", mountpoint]) }
        let file = "\(mountpoint)/disk0/part1/srv/data/blob.bin"
        // Looked up while the store answers; its data has not been read yet.
        #expect(lstatOf(file)?.st_size == 1 << 20 + 3)
        try proxy.inject("down", match: "/chunks/")
        let during = try Shell.run("cat", [file])
        #expect(during.status != 0 && during.stderr.contains("Input/output error"), "\(during.stderr)")
        try proxy.inject("pass")
        #expect(try sha256(file) == (try sha256("\(point.ext4.source)/srv/data/blob.bin")))
        #expect(try isMounted(mountpoint))
        let log = try String(contentsOfFile: point.directory.file("daemon.log"), encoding: .utf8)
        #expect(log.contains("blob.bin") && log.contains("chunk"), "\(log)")
    }

    @Test func badCredentialsMissingBucketsAndTamperedObjectsGetTheirExitCodes() throws {
        let point = try S3Point(proxied: true)
        let proxy = try #require(point.proxy)
        let wrong = try point.run(["ls", point.id], ["AWS_SECRET_ACCESS_KEY": "not-the-secret-0001"])
        #expect(wrong.status == 1 && wrong.stderr.contains("HTTP 403") && wrong.stderr.contains("s3://backups/vm1"), "\(wrong.stderr)")
        #expect(!wrong.stderr.contains("not-the-secret") && !wrong.stderr.contains(S3Server.secretKey))

        // An expired session token: one request, no retry storm.
        try proxy.clearLog()
        try proxy.inject("status:403")
        let expired = try point.run(["ls", point.id], ["AWS_SESSION_TOKEN": "session-token-value"])
        #expect(expired.status == 1 && expired.stderr.contains("ExpiredToken"), "\(expired.stderr)")
        #expect(!expired.stderr.contains("session-token-value"))
        #expect(try proxy.requests().count == 1)
        try proxy.inject("pass")

        #expect(try point.run(["points", "--store", "s3://no-such-bucket"]).status == 6)
        #expect(try point.run(["points", "--store", "s3://backups/no-such-prefix"]).status == 6)
        let scheme = try point.run(["points", "--store", "ftp://example/store"])
        #expect(scheme.status == 2 && scheme.stderr.contains("unknown scheme"), "\(scheme.stderr)")

        // A listing that is not one fails with a clear error.
        try proxy.inject("garbage", match: "list-type")
        let garbage = try point.run(["points"])
        #expect(garbage.status == 1 && garbage.stderr.contains("listing"), "\(garbage.stderr)")
        try proxy.inject("pass")

        // A tampered object is never served (5), nor a missing one (5), each naming its chunk.
        let chunks = try point.objects(under: "chunks").filter { $0.count > 3 }.sorted()
        let blob = point.directory.file("blob")
        var status: [Int32] = []
        for (index, chunk) in chunks.enumerated() {
            let path = "\(point.s3.root)/backups/vm1/chunks/\(chunk)"
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            if index % 2 == 0 { bytes[bytes.count / 2] ^= 1 } else { bytes.removeAll() }
            try bytes.write(to: URL(fileURLWithPath: path))
            if index > 1 { break }
        }
        let copy = try point.run(["cp", "-R", "\(point.id):/disk0/part1", blob, "--cache-max", "0"])
        status.append(copy.status)
        #expect(copy.status == 5 && copy.stderr.contains("integrity error") && copy.stderr.contains("chunk"), "\(copy.stderr)")
    }

    @Test func aSecondReadComesFromTheObjectCacheAndABadCopyIsFetchedAgain() throws {
        let point = try S3Point(proxied: true)
        let proxy = try #require(point.proxy)
        let file = "\(point.id):/disk0/part1/srv/data/blob.bin"
        #expect(try point.run(["cp", file, point.directory.file("first")]).status == 0)
        try proxy.clearLog()
        #expect(try point.run(["cp", file, point.directory.file("second")]).status == 0)
        let refetched = try proxy.requests().filter { $0.contains("/chunks/") }
        #expect(refetched.isEmpty, "chunks fetched again: \(refetched)")

        // Damage every cached object: each is discarded and fetched again, never served.
        let cache = point.directory.file("cache/rpfs")
        let cached = try FileManager.default.subpathsOfDirectory(atPath: cache).filter { $0.split(separator: "/").last?.count == 64 }
        #expect(!cached.isEmpty)
        for relative in cached {
            let path = "\(cache)/\(relative)"
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes[bytes.count - 1] ^= 0xFF
            try bytes.write(to: URL(fileURLWithPath: path))
        }
        let third = try point.run(["cp", file, point.directory.file("third")])
        #expect(third.status == 0, "\(third.stderr)")
        #expect(try sha256(point.directory.file("third")) == (try sha256("\(point.ext4.source)/srv/data/blob.bin")))
        #expect(!(try proxy.requests().filter { $0.contains("/chunks/") }.isEmpty))

        // The bound holds: with a tiny cache, what is left after a copy stays under it.
        let bounded = point.directory.file("bounded")
        #expect(try point.run(["cp", "-R", "\(point.id):/disk0/part1", point.directory.file("tree"),
                               "--cache-dir", bounded, "--cache-max", "300K"]).status == 0)
        let sizes = try FileManager.default.subpathsOfDirectory(atPath: bounded).compactMap { relative -> Int? in
            let attributes = try FileManager.default.attributesOfItem(atPath: "\(bounded)/\(relative)")
            return attributes[.type] as? FileAttributeType == .typeRegular ? attributes[.size] as? Int : nil
        }
        #expect(sizes.reduce(0, +) <= 300 << 10, "\(sizes.reduce(0, +)) bytes cached")
    }

    @Test func aRewrapThatLosesARaceWritesNothing() throws {
        let point = try S3Point(proxied: true)
        let proxy = try #require(point.proxy)
        let file = "\(point.s3.root)/backups/vm1/points/\(point.id).point"
        let before = try Data(contentsOf: URL(fileURLWithPath: file))
        #expect(try point.run(["keys", "new", "backup", "--bits", "2048"]).status == 0)
        // The server answers the conditional PUT as S3 does when the point file changed since
        // it was read (another rewrap won): 412 Precondition Failed.
        try proxy.inject("status:412", match: "/points/", method: "PUT")
        try proxy.clearLog()
        let rewrap = try point.run(["rewrap", point.id, "--kek", "backup/2"])
        #expect(rewrap.status == 1 && rewrap.stderr.contains("HTTP 412") && rewrap.stderr.contains("run the command again"), "\(rewrap.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == before)
        let put = try proxy.requests().filter { $0.hasPrefix("PUT") && $0.contains("/points/") }
        #expect(put.count == 1, "a 412 is final: \(put)")
    }

    @Test func libcurlsSignaturesMatchBotocore() throws {
        let point = try S3Point(proxied: true)
        let proxy = try #require(point.proxy)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Tools/sigv4-check.py").path
        // A GET, a ListObjectsV2 with its encoded query, and a PUT with a body.
        let cases: [(String, String?, [String])] = [
            ("rpfs-store", nil, ["points"]),
            ("list-type", nil, ["points"]),
            ("points/", "PUT", ["create", "--kek", "backup", "--disk", point.ext4.disk, "--chunk-size", "64K"]),
        ]
        for (match, method, arguments) in cases {
            try? FileManager.default.removeItem(atPath: proxy.control + ".request")
            var control: [String: Any] = ["mode": "record", "count": 1, "match": match]
            if let method { control["method"] = method }
            try JSONSerialization.data(withJSONObject: control).write(to: URL(fileURLWithPath: proxy.control))
            _ = try point.run(arguments, ["AWS_SESSION_TOKEN": "a-session-token"])
            let check = try Shell.run(try PythonTools.shared.executable, [script, proxy.control + ".request", S3Server.accessKey, S3Server.secretKey, "us-east-1"])
            #expect(check.status == 0 && check.stdout.contains("match"), "\(match): \(check.stdout)\(check.stderr)")
        }
    }
}
