#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CLinux
import Dispatch
import POSIXFiles
import PointNamespace
import Synchronization
import WebFrontend

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a point read-only over HTTP(S): a browser page, WebDAV, zip and tar downloads.",
        discussion: """
        The page at / lists disks, volumes (with why one cannot be read) and folders, with a download link \
        per file and zip and tar links per folder; /dav/ is read-only WebDAV (Windows Explorer, macOS Finder, \
        davfs2, rclone); /zip/PATH and /tar/PATH stream archives (docs/ARCHIVES.md). Listens on 127.0.0.1 \
        unless told otherwise; any other address needs --tls-cert, --tls-key and --htpasswd, or serve \
        refuses to start. Runs until SIGINT or SIGTERM. See docs/SERVE.md.
        """)

    @Argument(help: ArgumentHelp("Point id, or a unique prefix of it.", valueName: "POINT"))
    var point: String

    @Option(help: ArgumentHelp("Address and port to listen on; port 0 takes a free one.", valueName: "ADDR:PORT"))
    var listen = "127.0.0.1:8080"

    @Option(help: ArgumentHelp("PEM certificate chain: serve HTTPS (with --tls-key).", valueName: "FILE"))
    var tlsCert: String?

    @Option(help: ArgumentHelp("PEM private key of the certificate.", valueName: "FILE"))
    var tlsKey: String?

    @Option(help: ArgumentHelp("htpasswd file of bcrypt entries (htpasswd -B): every request needs one of its users.", valueName: "FILE"))
    var htpasswd: String?

    @Option(help: ArgumentHelp("Close a connection idle this long: 90s, 5m (default 60s).", valueName: "DURATION"))
    var idleTimeout = "60s"

    @Option(help: ArgumentHelp("Append one line per request (time, method, target, status).", valueName: "FILE"))
    var logFile: String?

    @OptionGroup var access: FileAccessOptions

    func validate() throws {
        _ = try settings()
    }

    /// The options as the server takes them; a public address without TLS and a password
    /// file is refused here, before the point is opened.
    private func settings() throws -> ServeConfiguration {
        var settings = ServeConfiguration()
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0 ... 65535).contains(port) else {
            throw ValidationError("--listen takes ADDR:PORT, e.g. 127.0.0.1:8080 or [::1]:8080, got '\(listen)'")
        }
        let host = listen[..<colon]
        settings.host = String(host.hasPrefix("[") && host.hasSuffix("]") ? host.dropFirst().dropLast() : host)
        settings.port = port
        settings.certificateFile = tlsCert
        settings.keyFile = tlsKey
        guard let seconds = Self.seconds(idleTimeout), seconds > 0 else {
            throw ValidationError("--idle-timeout takes a duration such as 90s or 5m, got '\(idleTimeout)'")
        }
        settings.idleTimeout = .seconds(seconds)
        if let htpasswd {
            settings.htpasswd = (String(decoding: try Files.read(htpasswd, limit: 1 << 20), as: UTF8.self), htpasswd)
        }
        do {
            try settings.check()
        } catch {
            throw ValidationError(error.description)
        }
        return settings
    }

    /// "90", "90s", "5m", "1h" as seconds.
    private static func seconds(_ text: String) -> Int64? {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600]
        guard let last = text.last else { return nil }
        guard let unit = units[last] else { return Int64(text) }
        return Int64(text.dropLast()).map { $0 * unit }
    }

    func run() throws {
        var settings = try settings()
        let namespace = try access.open(point)
        if let logFile {
            let log = try FileDescriptor(opening: logFile, flags: O_WRONLY | O_CREAT | O_APPEND, mode: 0o600)
            settings.log = { line in
                var now = timespec()
                clock_gettime(CLOCK_REALTIME, &now)
                try? log.append(Array("\(TimeFormat.rfc3339(seconds: Int64(now.tv_sec), nanoseconds: 0)) \(line)\n".utf8))
            }
        }
        // A parent (a test runner, nohup) may hand SIGINT and SIGTERM down blocked.
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGINT)
        sigaddset(&stopSignals, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
        let outcome = Mutex<(any Error)?>(nil)
        let finished = DispatchSemaphore(value: 0)
        let pointID = namespace.pointID
        let running = settings
        Task {
            do {
                // Unbuffered: whoever started serve reads the URL while it runs.
                try await WebServer.run(namespace, running) { url in Terminal.write("serving \(pointID) at \(url)\n", to: STDOUT_FILENO) }
            } catch {
                outcome.withLock { $0 = error }
            }
            finished.signal()
        }
        finished.wait()
        if let error = outcome.withLock({ $0 }) { throw error }
    }
}
