import ArgumentParser
import CLinux
import Foundation
import FuseFrontend
#if canImport(Glibc)
import Glibc
#endif

struct Mount: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Mount a point read-only: /<disk>/<volume>/... under MOUNTPOINT.",
        discussion: """
        Without -f the command returns once the mount answers, leaving the daemon in the background; \
        errors found while opening the point (refusal, missing key, corrupt table) are reported by the \
        command itself, with its exit code, and nothing is mounted. Unmount with `rpfs unmount MOUNTPOINT` \
        (or fusermount3 -u), SIGTERM or SIGINT; a crashed daemon leaves no stale mount (auto_unmount).
        """)

    /// Set in the environment of the background daemon that `mount` starts.
    static let daemonVariable = "RPFS_MOUNT_DAEMON"

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

    static func seconds(_ text: String) -> Int? {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let unit = text.last, let factor = units[unit], let value = Int(text.dropLast()), value > 0 { return value * factor }
        return Int(text).flatMap { $0 > 0 ? $0 : nil }
    }

    func run() throws {
        let isDaemon = ProcessInfo.processInfo.environment[Self.daemonVariable] == "1"
        if !foreground, !isDaemon {
            try startDaemon()
            return
        }
        let namespace = try access.open(point)
        var mountOptions = MountOptions()
        mountOptions.allowOther = allowOther
        mountOptions.idleTimeout = idleTimeout.flatMap(Self.seconds)
        mountOptions.extraOptions = extraOptions
        mountOptions.sourceName = "rpfs:\(namespace.point.header.id)"
        let log = DaemonLog(file: logFile, toStandardError: !isDaemon)
        do {
            try FuseMount.serve(namespace, at: mountpoint, options: mountOptions, log: log.write) {
                guard isDaemon else { return }
                // Tell the waiting `rpfs mount` that the mount answers, then let go of its pipes
                // and its terminal.
                FileHandle.standardOutput.write(Data("ready\n".utf8))
                let null = open("/dev/null", O_RDWR)
                dup2(null, STDOUT_FILENO)
                dup2(null, STDERR_FILENO)
                close(null)
                setsid()
            }
        } catch {
            throw CommandError(status: .error, description: error.description)
        }
    }

    /// Runs this same command as a background daemon and waits until it has mounted or failed.
    private func startDaemon() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = Array(CommandLine.arguments.dropFirst())
        var environment = ProcessInfo.processInfo.environment
        environment[Self.daemonVariable] = "1"
        process.environment = environment
        let ready = Pipe()
        let errors = Pipe()
        process.standardOutput = ready
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let answer = String(decoding: ready.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        if answer.hasPrefix("ready") { return }
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        FileHandle.standardError.write(Data(message.utf8))
        Glibc.exit(process.terminationStatus == 0 ? ExitStatus.error.rawValue : process.terminationStatus)
    }
}

struct Unmount: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Unmount a point mounted with rpfs mount.")

    @Argument(help: "The mount point.")
    var mountpoint: String

    func run() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/fusermount3")
        process.arguments = ["-u", mountpoint]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandError(status: .error, description: "cannot unmount \(mountpoint): \(message.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }
}

/// Where the mount daemon's log lines go: one line per event (integrity failures name the
/// file, disk and chunk).
struct DaemonLog: Sendable {
    let file: String?
    let toStandardError: Bool

    func write(_ line: String) {
        let text = "rpfs: \(line)\n"
        if let file, let handle = FileHandle(forWritingAtPath: file) ?? Self.create(file) {
            handle.seekToEndOfFile()
            handle.write(Data(text.utf8))
            try? handle.close()
        } else if toStandardError {
            FileHandle.standardError.write(Data(text.utf8))
        } else {
            rpfs_syslog_error("rpfs: \(line)")
        }
    }

    private static func create(_ path: String) -> FileHandle? {
        FileManager.default.createFile(atPath: path, contents: nil) ? FileHandle(forWritingAtPath: path) : nil
    }
}
