#if canImport(Glibc)
import Glibc
#endif
import CFuse3
import Dispatch
import PointNamespace
import Synchronization

public struct MountOptions: Sendable {
    /// Let other users see the mount; the kernel then enforces the modes from the backup.
    public var allowOther = false
    /// Unmount after this long with no request.
    public var idleTimeout: Int?
    /// Extra `-o` options, passed to libfuse as given.
    public var extraOptions: [String] = []
    /// Shown as the mount's source in /proc/mounts.
    public var sourceName = "rpfs"

    public init() {}
}

public struct MountError: Error, CustomStringConvertible {
    public let description: String
}

/// A FUSE session serving one point, read-only, through libfuse's low-level API.
public enum FuseMount {
    /// Mounts `namespace` at `mountpoint` and serves it until it is unmounted, the process
    /// gets SIGINT/SIGTERM/SIGHUP, or the idle timeout passes. `mounted` runs once the mount
    /// is live. The mount is `ro` and uses `auto_unmount`, so a crashed daemon leaves no
    /// stale mount behind.
    public static func serve(_ namespace: PointNamespace, at mountpoint: String, options: MountOptions,
                             log: @escaping @Sendable (String) -> Void, mounted: @escaping @Sendable () -> Void) throws(MountError) {
        // Page faults and munmap of freshly mapped 4 MiB chunk buffers took a fifth of the
        // daemon's CPU in a sequential read (perf): keep freed blocks for reuse, in one arena
        // so that idle arenas hold nothing back (peak RSS stays near the cache size).
        _ = rpfs_malloc_keep_freed(32 << 20, 16 << 20, 1)
        let filesystem = PointFilesystem(namespace: namespace, log: log)
        let context = SessionContext(filesystem)
        let userdata = Unmanaged.passRetained(context)
        defer { userdata.release() }

        var mountOptions = ["ro", "fsname=\(String(options.sourceName.map { $0 == "," ? "_" : $0 }))", "subtype=rpfs", "auto_unmount"]
        if options.allowOther { mountOptions += ["allow_other", "default_permissions"] }
        mountOptions += options.extraOptions
        let argv = ["rpfs", "-o", mountOptions.joined(separator: ",")].map { (text: String) in strdup(text) }
        defer { argv.forEach { free($0) } }
        var cArgv = argv
        var operations = FuseOperations.table()
        let session = cArgv.withUnsafeMutableBufferPointer { buffer -> OpaquePointer? in
            var args = fuse_args(argc: Int32(buffer.count), argv: buffer.baseAddress, allocated: 0)
            defer { fuse_opt_free_args(&args) }
            return fuse_session_new(&args, &operations, MemoryLayout<fuse_lowlevel_ops>.size, userdata.toOpaque())
        }
        guard let session else { throw MountError(description: "libfuse could not start a session (bad -o options?)") }
        defer { fuse_session_destroy(session) }
        context.attach(session)
        // A parent may hand down these signals ignored or blocked (test runners, nohup):
        // libfuse installs its handlers only over the default action, and a blocked
        // signal would never stop the loop.
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        for signal in [SIGTERM, SIGINT, SIGHUP] {
            Glibc.signal(signal, SIG_DFL)
            sigaddset(&stopSignals, signal)
        }
        pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
        guard fuse_set_signal_handlers(session) == 0 else { throw MountError(description: "could not install signal handlers") }
        defer { fuse_remove_signal_handlers(session) }
        guard fuse_session_mount(session, mountpoint) == 0 else {
            throw MountError(description: "could not mount at \(mountpoint) (does it exist, and is /dev/fuse usable?)")
        }
        defer { fuse_session_unmount(session) }
        // Touching the mount before the loop below serves it would wait on ourselves: the
        // first stat runs on another thread and returns once the loop answers.
        DispatchQueue.global().async {
            var info = stat()
            guard stat(mountpoint, &info) == 0 else { return }
            raiseReadAhead(device: info.st_dev)
            mounted()
        }

        // The loop waits on this thread: signals must reach it, not a worker or timer thread.
        let loopThread = pthread_self()
        let idleTimer = options.idleTimeout.map { startIdleTimer(seconds: $0, filesystem: filesystem, loopThread: loopThread, log: log) }
        defer { idleTimer?.cancel() }
        guard let config = fuse_loop_cfg_create() else { throw MountError(description: "out of memory") }
        defer { fuse_loop_cfg_destroy(config) }
        fuse_loop_cfg_set_max_threads(config, 16)
        let status = rpfs_fuse_session_loop_mt(session, config)
        // SIGTERM/SIGINT make the loop return the signal number: a clean stop.
        guard status == 0 || status == SIGTERM || status == SIGINT || status == SIGHUP else {
            throw MountError(description: "the FUSE session ended with error \(status)")
        }
    }

    /// Requests arrive in 128 KiB pieces unless the mount's read-ahead is raised; root may.
    private static func raiseReadAhead(device: dev_t) {
        guard geteuid() == 0 else { return }
        // Linux's dev_t encoding (gnu_dev_major/minor are macros Swift cannot see).
        let dev = UInt64(device)
        let major = ((dev >> 8) & 0xFFF) | ((dev >> 32) & ~UInt64(0xFFF))
        let minor = (dev & 0xFF) | ((dev >> 12) & ~UInt64(0xFF))
        guard let file = fopen("/sys/class/bdi/\(major):\(minor)/read_ahead_kb", "w") else { return }
        fputs("1024", file)
        fclose(file)
    }

    /// Stops the session (as SIGTERM would) once no request has come for `seconds`.
    private static func startIdleTimer(seconds: Int, filesystem: PointFilesystem, loopThread: pthread_t,
                                       log: @escaping @Sendable (String) -> Void) -> DispatchSourceTimer {
        let timer = DispatchSource.makeTimerSource(queue: .global(qos: .utility))
        let interval = max(1, min(seconds / 4, 10))
        timer.schedule(deadline: .now() + .seconds(interval), repeating: .seconds(interval))
        timer.setEventHandler {
            let idle = PointFilesystem.now() - filesystem.lastAccess.load(ordering: .relaxed)
            if idle >= Int64(seconds) {
                log("idle for \(idle) s: unmounting")
                pthread_kill(loopThread, SIGTERM)
            }
        }
        timer.resume()
        return timer
    }
}
