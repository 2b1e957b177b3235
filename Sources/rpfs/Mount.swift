import ArgumentParser
import ByteParsing
import CLinux
import FuseFrontend
#if canImport(Glibc)
import Glibc
#endif
import POSIXFiles
import PointNamespace

struct MountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mount",
        abstract: "Mount a point read-only: /<disk>/<volume>/... under MOUNTPOINT.",
        discussion: """
        Without -f the command returns once the mount answers, leaving the daemon in the background; \
        errors found while opening the point (refusal, missing key, corrupt table) are reported by the \
        command itself, with its exit code, and nothing is mounted. Unmount with `rpfs unmount MOUNTPOINT` \
        (or fusermount3 -u), SIGTERM or SIGINT; a crashed daemon leaves no stale mount (auto_unmount).
        """)

    @Argument(help: ArgumentHelp("Point id, or a unique prefix of it.", valueName: "POINT"))
    var point: String

    @Argument(help: "An existing empty directory to mount on.")
    var mountpoint: String

    @Flag(name: [.customShort("f"), .long], help: "Stay in the foreground; log to stderr.")
    var foreground = false

    @Flag(help: "Let other users see the files; the kernel then enforces the modes stored in the backup (default_permissions).")
    var allowOther = false

    @Option(help: ArgumentHelp("Unmount after this long without a request: 90s, 30m, 2h.", valueName: "DURATION"))
    var idleTimeout: String?

    @Option(name: .customShort("o"), help: ArgumentHelp("Extra mount options for libfuse, comma-separated.", valueName: "OPTIONS"))
    var options: [String] = []

    @Option(help: ArgumentHelp("Append the daemon's log lines to this file (default: stderr with -f, else syslog).", valueName: "FILE"))
    var logFile: String?

    @OptionGroup var access: FileAccessOptions

    func validate() throws {
        if let idleTimeout, Self.seconds(idleTimeout) == nil {
            throw ValidationError("--idle-timeout must look like 90s, 30m or 2h, got '\(idleTimeout)'")
        }
        // libfuse takes the last of ro/rw: an -o rw after rpfs's own ro would undo it.
        if extraOptions.contains("rw") {
            throw ValidationError("-o rw: rpfs mounts are read-only")
        }
    }

    private var extraOptions: [String] {
        options.flatMap { $0.split(separator: ",").map(String.init) }
    }

    /// Throws unless `path` is an existing directory (status 6 when it does not exist).
    static func checkMountpoint(_ path: String) throws {
        var status = stat()
        guard stat(path, &status) == 0 else {
            let error = SystemError("mount point", path: path, errno: errno)
            throw CommandError(status: error.isNotFound ? .notFound : .error, description: error.description)
        }
        guard status.st_mode & S_IFMT == S_IFDIR else {
            throw CommandError(status: .usage, description: "mount point \(path): not a directory")
        }
    }

    static func seconds(_ text: String) -> Int? {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let unit = text.last, let factor = units[unit], let value = Int(text.dropLast()), value > 0 { return value * factor }
        return Int(text).flatMap { $0 > 0 ? $0 : nil }
    }

    func run() throws {
        // Checked here, not by libfuse, whose own message would reach stderr before ours.
        try Self.checkMountpoint(mountpoint)
        // Without -f the daemon is forked first, while this process has no other thread
        // (a forked child keeps only the calling one); this process then waits in start().
        let daemon = foreground ? nil : try MountDaemon.start()
        let namespace = try access.open(point)
        var mountOptions = MountOptions()
        mountOptions.allowOther = allowOther
        mountOptions.idleTimeout = idleTimeout.flatMap(Self.seconds)
        mountOptions.extraOptions = extraOptions
        mountOptions.sourceName = "rpfs:\(namespace.pointID)"
        let log = DaemonLog(file: logFile, toStandardError: daemon == nil)
        do {
            try FuseMount.serve(namespace, at: mountpoint, options: mountOptions, log: log.write) {
                daemon?.detach()
            }
            // Unmounted: chunks read-ahead was still fetching are kept for the next mount.
            namespace.finishReads(within: 10)
        } catch {
            throw CommandError(status: .error, description: error.description)
        }
    }
}

/// The background side of `rpfs mount`: the command forks, the child opens the point,
/// mounts and serves, and the parent (the command the user ran) waits on a pipe. The child
/// shares the user's stderr until it detaches, so a refusal, a missing key or a damaged
/// table is reported by the child's ordinary error path, and the parent exits with the
/// child's status; once the mount answers, the child writes "ready" and the parent exits 0.
struct MountDaemon: Sendable {
    /// The pipe's write end; the parent sees EOF when the child exits without writing.
    private let ready: Int32

    /// In the child: returns the daemon. In the parent: waits, then exits; never returns.
    static func start() throws -> MountDaemon {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw CommandError(status: .error, description: "cannot create a pipe: \(String(cString: strerror(errno)))") }
        // Close-on-exec: helpers the daemon runs (fusermount3, an unwrap command) must not
        // hold the write end, or the parent would miss the EOF of a failed child.
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        // Whatever stdio holds would otherwise be written by both processes. An ignored
        // SIGCHLD (inherited) would reap the child before waitpid could read its status.
        fflush(nil)
        signal(SIGCHLD, SIG_DFL)
        let child = fork()
        guard child >= 0 else { throw CommandError(status: .error, description: "cannot fork the mount daemon: \(String(cString: strerror(errno)))") }
        if child > 0 {
            close(ends[1])
            waitForDaemon(child, ends[0])
        }
        close(ends[0])
        // Nothing else the command was started with stays open in a long-lived daemon.
        rpfs_close_descriptors_from(3, ends[1])
        let null = open("/dev/null", O_RDWR)
        dup2(null, STDIN_FILENO)
        if null > STDERR_FILENO { close(null) }
        return MountDaemon(ready: ends[1])
    }

    /// In the parent: exits 0 once the child says "ready", else with the child's status.
    private static func waitForDaemon(_ child: pid_t, _ pipe: Int32) -> Never {
        var answer = [UInt8](repeating: 0, count: 8)
        var count: Int
        repeat { count = read(pipe, &answer, answer.count) } while count < 0 && errno == EINTR
        if count > 0 { _exit(ExitStatus.ok.rawValue) }
        switch ChildProcess.wait(for: child) {
        case let .signaled(signal):
            Terminal.error("the mount daemon was killed by signal \(signal)")
            _exit(ExitStatus.error.rawValue)
        case let .exited(code):
            // A child that exits 0 without a mount (unmounted before it answered) still
            // failed, as does one that cannot be waited for (-1).
            _exit(code > 0 ? code : ExitStatus.error.rawValue)
        }
    }

    /// In the child, once the mount answers: tells the parent, then lets go of the
    /// terminal and of the caller's stdout and stderr.
    func detach() {
        _ = write(ready, "ready\n", 6)
        close(ready)
        let null = open("/dev/null", O_RDWR)
        dup2(null, STDOUT_FILENO)
        dup2(null, STDERR_FILENO)
        if null > STDERR_FILENO { close(null) }
        setsid()
    }
}

struct UnmountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unmount", abstract: "Unmount a point mounted with rpfs mount.")

    @Argument(help: "The mount point.")
    var mountpoint: String

    /// fusermount3's complaint (it names itself by argv[0]) becomes rpfs's error message.
    static let maxErrorText = 4096

    func run() throws {
        let finished: ChildProcess.Outcome
        do {
            finished = try ChildProcess.run("/usr/bin/fusermount3", arguments: ["/usr/bin/fusermount3", "-u", mountpoint],
                                            maxError: Self.maxErrorText)
        } catch {
            throw failure("\(error)")
        }
        guard finished.status == .exited(0) else {
            throw failure(String(decoding: finished.errorText, as: UTF8.self).trimmingWhitespace())
        }
    }

    private func failure(_ reason: String) -> CommandError {
        CommandError(status: .error, description: "cannot unmount \(mountpoint): \(reason)")
    }
}

/// Where the mount daemon's log lines go: one line per event (integrity failures name the
/// file, disk and chunk).
struct DaemonLog: Sendable {
    let file: String?
    let toStandardError: Bool

    /// Log lines name files from the backup: made visible for whoever reads the log.
    func write(_ event: String) {
        let line = Terminal.visible(event, keepingLineBreaks: false)
        let text = "rpfs: \(line)\n"
        // Opened per line, so that a rotated log is followed; O_APPEND and one write keep
        // the lines of concurrent requests whole.
        if let file, let log = try? FileDescriptor(opening: file, flags: O_WRONLY | O_APPEND | O_CREAT, mode: 0o666) {
            try? log.append(Array(text.utf8))
        } else if toStandardError {
            Terminal.write(text, to: STDERR_FILENO)
        } else {
            rpfs_syslog_error("rpfs: \(line)")
        }
    }
}
