import Foundation
import TestSupport
import Testing

/// `rpfs serve` started on loopback over an `ArchivePoint`, driven by real clients.
final class ServeFixture: @unchecked Sendable {
    let point: ArchivePoint
    let server: BackgroundServer
    let base: String

    init(point: ArchivePoint? = nil, extra: [String] = [], scheme: String = "http") throws {
        let point = try point ?? ArchivePoint()
        self.point = point
        let port = BackgroundServer.freePort()
        server = try BackgroundServer(rpfsBinary, ["serve", point.id, "--listen", "127.0.0.1:\(port)"] + extra,
                                      environment: point.cli.environment, port: port, log: point.cli.directory.file("serve-\(port).log"))
        base = "\(scheme)://127.0.0.1:\(port)"
    }
}

/// One curl exchange: status, headers (lowercased names) and body bytes.
struct CurlResult {
    let status: Int
    let headers: [(name: String, value: String)]
    let body: Data

    func header(_ name: String) -> String? { headers.first { $0.name == name.lowercased() }?.value }
}

func curl(_ url: String, _ options: [String] = [], in directory: TemporaryDirectory) throws -> CurlResult {
    let body = directory.file("curl-body"), head = directory.file("curl-head")
    let result = try Shell.run("curl", ["-s", "-S", "--path-as-is", "-o", body, "-D", head, "-w", "%{http_code}"] + options + [url])
    guard result.status == 0, let status = Int(result.stdout) else { throw TestFailure("curl \(url): \(result.status) \(result.stderr)") }
    let headers = try String(decoding: Data(contentsOf: URL(fileURLWithPath: head)), as: UTF8.self)
        .components(separatedBy: "\r\n").dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
    return CurlResult(status: status, headers: headers, body: (try? Data(contentsOf: URL(fileURLWithPath: body))) ?? Data())
}

@Suite struct ServeTests {
    /// rclone's WebDAV backend copies the tree, and `rclone check --download` finds it equal,
    /// byte for byte, to the source tree (regular files: WebDAV has no symlinks or devices).
    @Test func rcloneCopiesTheTreeOverWebDAV() throws {
        let serve = try ServeFixture()
        let rclone = try S3Server.rclone()
        let remote = ["--webdav-url", "\(serve.base)/dav/disk0/volume/tree/", "--config", "/dev/null"]
        let copy = serve.point.cli.directory.file("rclone-copy")
        let copied = try Shell.run(rclone, ["copy", ":webdav:", copy] + remote)
        #expect(copied.status == 0, "\(copied.stderr)")
        // Only regular files travel: compare them with the source, name by name and byte by byte.
        let source = try regularFiles(serve.point.tree)
        #expect(try regularFiles(copy) == source)
        for (relative, bytes) in source { #expect(try Data(contentsOf: URL(fileURLWithPath: "\(copy)/\(relative)")) == bytes, "\(relative)") }
        let check = try Shell.run(rclone, ["check", "--download", "--skip-links", serve.point.tree, ":webdav:"] + remote)
        #expect(check.status == 0, "\(check.stderr)")
    }

    @Test func rangesConditionsAndRefusedMethods() throws {
        let serve = try ServeFixture()
        let directory = serve.point.cli.directory
        let url = "\(serve.base)/dav/disk0/volume/tree/srv/data/blob.bin"
        let source = try Data(contentsOf: URL(fileURLWithPath: "\(serve.point.tree)/srv/data/blob.bin"))
        let whole = try curl(url, in: directory)
        #expect(whole.status == 200 && whole.body == source)
        #expect(whole.header("accept-ranges") == "bytes")
        let etag = try #require(whole.header("etag"))
        let modified = try #require(whole.header("last-modified"))
        let range = try curl(url, ["-H", "Range: bytes=1000-1999"], in: directory)
        #expect(range.status == 206 && range.body == source[1000 ..< 2000])
        #expect(range.header("content-range") == "bytes 1000-1999/\(source.count)")
        let suffix = try curl(url, ["-H", "Range: bytes=-10"], in: directory)
        #expect(suffix.status == 206 && suffix.body == source.suffix(10))
        let beyond = try curl(url, ["-H", "Range: bytes=\(source.count)-"], in: directory)
        #expect(beyond.status == 416 && beyond.header("content-range") == "bytes */\(source.count)")
        #expect(try curl(url, ["-H", "If-None-Match: \(etag)"], in: directory).status == 304)
        #expect(try curl(url, ["-H", "If-Modified-Since: \(modified)"], in: directory).status == 304)
        #expect(try curl(url, ["-H", "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT"], in: directory).status == 200)
        let stale = try curl(url, ["-H", "Range: bytes=0-9", "-H", "If-Range: \"other\""], in: directory)
        #expect(stale.status == 200 && stale.body == source)
        let fresh = try curl(url, ["-H", "Range: bytes=0-9", "-H", "If-Range: \(etag)"], in: directory)
        #expect(fresh.status == 206 && fresh.body == source.prefix(10))
        let head = try curl(url, ["-I"], in: directory)
        #expect(head.status == 200 && head.header("content-length") == "\(source.count)")
        #expect(try Shell.check("curl", ["-s", "-I", "-o", "/dev/null", "-w", "%{size_download}", url]) == "0", "HEAD sends no body")
        for method in ["PUT", "DELETE", "MKCOL", "COPY", "MOVE", "PROPPATCH", "LOCK"] {
            #expect(try curl(url, ["-X", method], in: directory).status == 405, "\(method)")
        }
        let options = try curl("\(serve.base)/dav/", ["-X", "OPTIONS"], in: directory)
        #expect(options.header("dav") == "1" && options.header("allow")?.contains("PROPFIND") == true)
        #expect(try curl("\(serve.base)/dav/disk0/", ["-X", "PROPFIND"], in: directory).status == 403, "Depth: infinity")
        let listing = try curl("\(serve.base)/dav/disk0/volume/tree/etc/", ["-X", "PROPFIND", "-H", "Depth: 1"], in: directory)
        #expect(listing.status == 207)
        let xml = String(decoding: listing.body, as: UTF8.self)
        #expect(xml.contains("<D:href>/dav/disk0/volume/tree/etc/hostname</D:href>") && xml.contains("<D:getcontentlength>6</D:getcontentlength>"), "\(xml)")
        // Paths that would leave the tree or mean two things are refused.
        for target in ["/dav/disk0/volume/tree/../../..", "/dav/disk0/volume/tree/%2e%2e/x", "/dav/disk0%2Fvolume/tree",
                       "/dav/disk0/volume/tree/etc/host%00name", "/dav/disk0/volume/tree/%C0%AE%C0%AE/etc", "/dav/disk0/volume/tree/%zz"] {
            #expect(try curl(serve.base + target, in: directory).status == 400, "\(target)")
        }
    }

    /// Names that are markup, quotes and line breaks: escaped in the page, the WebDAV listing
    /// and the download's headers, which stay one line each.
    @Test func hostileNamesAreEscapedEverywhere() throws {
        let serve = try ServeFixture()
        let directory = serve.point.cli.directory
        let page = try curl("\(serve.base)/browse/disk0/volume/hostile/", in: directory)
        #expect(page.status == 200)
        #expect(page.header("content-security-policy")?.contains("default-src 'none'") == true)
        let html = String(decoding: page.body, as: UTF8.self)
        #expect(!html.contains("<script") && !html.contains("<img") && !html.contains("<i>"), "\(html)")
        #expect(html.contains("&lt;script&gt;alert(1)") && html.contains("quote&quot;d&#39;name") && html.contains("a&amp;b&lt;i&gt;"))
        for name in ArchivePoint.hostileNames {
            let encoded = name.utf8.map { byte in
                (0x30 ... 0x39).contains(byte) || (0x41 ... 0x5A).contains(byte) || (0x61 ... 0x7A).contains(byte) ? String(UnicodeScalar(byte))
                    : String(format: "%%%02X", byte)
            }.joined()
            let download = try curl("\(serve.base)/dav/disk0/volume/hostile/\(encoded)?download", in: directory)
            #expect(download.status == 200 && download.body == Data("hostile\n".utf8), "\(name)")
            #expect(download.header("set-cookie") == nil)
            let disposition = try #require(download.header("content-disposition"))
            #expect(disposition.hasPrefix("attachment; filename=\"") && !disposition.contains("\r") && !disposition.contains("\n"))
            #expect(disposition.contains("filename*=UTF-8''\(encoded.replacingOccurrences(of: "%2D", with: "-"))"), "\(disposition)")
        }
        let listing = try curl("\(serve.base)/dav/disk0/volume/hostile/", ["-X", "PROPFIND", "-H", "Depth: 1"], in: directory)
        let xml = String(decoding: listing.body, as: UTF8.self)
        #expect(listing.status == 207 && !xml.contains("<script") && xml.contains("&lt;script&gt;"))
        // The XML parses, so no name broke out of its element.
        let parsed = try Shell.run("python3", ["-c", "import sys, xml.dom.minidom; xml.dom.minidom.parseString(sys.stdin.buffer.read())"], input: xml)
        #expect(parsed.status == 0, "\(parsed.stderr)")
    }

    @Test func archivesDownloadAndThePageLinksThem() throws {
        let serve = try ServeFixture()
        let directory = serve.point.cli.directory
        let root = String(decoding: try curl("\(serve.base)/", in: directory).body, as: UTF8.self)
        #expect(root.contains("href=\"/browse/disk0/\""))
        let volume = String(decoding: try curl("\(serve.base)/browse/disk0/volume/", in: directory).body, as: UTF8.self)
        #expect(volume.contains("href=\"/tar/disk0/volume/tree\"") && volume.contains("href=\"/zip/disk0/volume/tree\""))
        let tar = try curl("\(serve.base)/tar/disk0/volume/tree", in: directory)
        #expect(tar.status == 200 && tar.header("content-type") == "application/x-tar")
        let file = directory.file("served.tar")
        try tar.body.write(to: URL(fileURLWithPath: file))
        let extracted = directory.file("served")
        try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: false)
        #expect(try Shell.run("tar", ["-x", "--xattrs", "--xattrs-include=*", "--acls", "--numeric-owner", "-C", extracted, "-f", file]).status == 0)
        let check = try archiveCheck(["tree", serve.point.tree, "\(extracted)/tree"])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let zip = try curl("\(serve.base)/zip/disk0/volume/tree/etc", in: directory)
        let zipFile = directory.file("served.zip")
        try zip.body.write(to: URL(fileURLWithPath: zipFile))
        #expect(zip.header("content-disposition")?.contains("filename=\"etc.zip\"") == true)
        let zipCheck = try archiveCheck(["zip", zipFile, "\(serve.point.tree)/etc", "etc"])
        #expect(zipCheck.status == 0, "\(zipCheck.stdout)\(zipCheck.stderr)")
    }

    /// A damaged chunk under a file: its download and the archive of its folder are cut
    /// short (curl reports a partial transfer, 18), never sent whole-looking; never sent whole-looking.
    @Test func damageCutsTheTransferShort() throws {
        let point = try ArchivePoint()
        try point.damageBlobChunk()
        let serve = try ServeFixture(point: point)
        let directory = point.cli.directory
        for (index, path) in ["/tar/disk0/volume/tree/srv", "/zip/disk0/volume/tree/srv", "/dav/disk0/volume/tree/srv/data/blob.bin"].enumerated() {
            let result = try Shell.run("curl", ["-s", "-o", directory.file("cut-\(index)"), serve.base + path])
            #expect(result.status == 18, "\(path): curl \(result.status) \(result.stderr)")
        }
        #expect(try Shell.run("tar", ["-t", "-f", directory.file("cut-0")]).status != 0, "the cut tar must not list cleanly")
        #expect(try Shell.run("python3", ["-m", "zipfile", "-t", directory.file("cut-1")]).status != 0, "the cut zip must not open")
    }

    /// Off loopback, serve refuses to start without TLS and a password file; with them, a
    /// request needs the right credentials.
    @Test func tlsAndPasswordsOffLoopback() throws {
        let point = try ArchivePoint()
        let directory = point.cli.directory
        for extra in [[String](), ["--htpasswd", "/dev/null"]] {
            let refused = try point.cli.run(["serve", point.id, "--listen", "0.0.0.0:0"] + extra)
            #expect(refused.status == 2 && refused.stderr.contains("--tls-cert"), "\(refused.stderr)")
        }
        let cert = directory.file("cert.pem"), key = directory.file("key.pem"), users = directory.file("htpasswd")
        try Shell.check("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
        try Shell.check("htpasswd", ["-B", "-b", "-c", users, "alice", "correct horse"])
        let serve = try ServeFixture(point: point, extra: ["--tls-cert", cert, "--tls-key", key, "--htpasswd", users], scheme: "https")
        let url = "\(serve.base)/dav/disk0/volume/tree/etc/hostname"
        #expect(try curl(url, ["--cacert", cert], in: directory).status == 401)
        #expect(try curl(url, ["--cacert", cert, "-u", "alice:wrong"], in: directory).status == 401)
        #expect(try curl(url, ["--cacert", cert, "-u", "bob:correct horse"], in: directory).status == 401)
        let right = try curl(url, ["--cacert", cert, "-u", "alice:correct horse"], in: directory)
        #expect(right.status == 200 && right.body == Data("web01\n".utf8))
        // Plain HTTP to the TLS port is not answered with the file.
        #expect((try? curl(url.replacingOccurrences(of: "https:", with: "http:"), ["-u", "alice:correct horse"], in: directory).status) != 200)
    }

    /// 64 slow downloads at once all complete, whole, while the server's peak RSS stays
    /// within its chunk cache plus a bounded amount per request.
    @Test func sixtyFourConcurrentDownloads() throws {
        let serve = try ServeFixture(extra: ["--cache-size", "64M"])
        let directory = serve.point.cli.directory
        let url = "\(serve.base)/dav/disk0/volume/tree/srv/data/sparse.img"
        // One curl, 64 transfers at once, each held to 4 MB/s so that they overlap.
        let transfers = (0 ..< 64).flatMap { ["-o", directory.file("download-\($0)"), url] }
        let result = try Shell.run("curl", ["-s", "-f", "--parallel", "--parallel-immediate", "--parallel-max", "64", "--limit-rate", "4M"] + transfers)
        #expect(result.status == 0, "\(result.stderr)")
        let source = try Data(contentsOf: URL(fileURLWithPath: "\(serve.point.tree)/srv/data/sparse.img"))
        for index in 0 ..< 64 {
            #expect(try Data(contentsOf: URL(fileURLWithPath: directory.file("download-\(index)"))) == source, "download \(index)")
        }
        let status = try String(contentsOfFile: "/proc/\(serve.server.process.processIdentifier)/status", encoding: .utf8)
        let peak = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }.flatMap { Int($0.split(separator: " ")[1]) } ?? .max
        // 64 MiB of chunk cache, 64 requests of a few 256 KiB buffers each, the runtime's own.
        #expect(peak < 400 * 1024, "peak RSS \(peak) KiB")
    }
}

/// Relative path → bytes of every regular file below `root`.
private func regularFiles(_ root: String) throws -> [String: Data] {
    var files: [String: Data] = [:]
    let enumerator = FileManager.default.enumerator(atPath: root)
    while let relative = enumerator?.nextObject() as? String {
        var info = stat()
        guard lstat("\(root)/\(relative)", &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
        files[relative] = try Data(contentsOf: URL(fileURLWithPath: "\(root)/\(relative)"))
    }
    return files
}
