import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// Helper programs rpfs runs (an unwrap command, fusermount3), started with posix_spawn:
/// Foundation's `Process` would bring ICU into the binary.
public enum ChildProcess {
    public enum Status: Equatable, Sendable {
        case exited(Int32)
        case signaled(Int32)
    }

    /// Starts `path` with `arguments` (argv[0] first) and `environment` (nil: rpfs's own).
    /// The child gets `input`, `output` and `error` as its descriptors 0-2 (nil: rpfs's own)
    /// and no other descriptor, no blocked signal, and the default action for the signals
    /// rpfs may handle itself; with `ownProcessGroup`, a process group of its own, so that
    /// killing the group stops everything it started.
    public static func spawn(_ path: String, arguments: [String], environment: [String]? = nil,
                             input: Int32? = nil, output: Int32? = nil, error: Int32? = nil,
                             ownProcessGroup: Bool = false) throws(SystemError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (descriptor, target) in [(input, Int32(0)), (output, 1), (error, 2)] {
            if let descriptor { posix_spawn_file_actions_adddup2(&actions, descriptor, target) }
        }
        _ = rpfs_spawn_add_closefrom(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        if ownProcessGroup { posix_spawnattr_setpgroup(&attributes, 0) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16((ownProcessGroup ? POSIX_SPAWN_SETPGROUP : 0) | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { (text: String) in strdup(text) }
        let envp: [UnsafeMutablePointer<CChar>?]? = environment?.map { (text: String) in strdup(text) }
        defer { for pointer in argv + (envp ?? []) { free(pointer) } }
        var pid: pid_t = 0
        let spawned = (argv + [nil]).withUnsafeBufferPointer { argv in
            // The array ends in nil, so it is never empty and has a base address.
            guard let argv = argv.baseAddress else { return EINVAL }
            guard let envp else { return posix_spawn(&pid, path, &actions, &attributes, UnsafeMutablePointer(mutating: argv), environ) }
            return (envp + [nil]).withUnsafeBufferPointer { envp in
                guard let envp = envp.baseAddress else { return EINVAL }
                return posix_spawn(&pid, path, &actions, &attributes, UnsafeMutablePointer(mutating: argv), UnsafeMutablePointer(mutating: envp))
            }
        }
        guard spawned == 0 else { throw SystemError("posix_spawn", path: path, errno: spawned) }
        return pid
    }

    /// Waits for child `pid` to end; `.exited(-1)` when it cannot be waited for.
    public static func wait(for pid: pid_t) -> Status {
        reap(pid, options: 0) ?? .exited(-1)
    }

    /// The status of child `pid` if it has ended, else nil (it is still running).
    public static func status(of pid: pid_t) -> Status? {
        reap(pid, options: WNOHANG)
    }

    private static func reap(_ pid: pid_t, options: Int32) -> Status? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, options)
            if result == pid { break }
            if result == 0 { return nil }
            if errno == EINTR { continue }
            return .exited(-1)
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift does not import.
        let signal = status & 0x7F
        return signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal)
    }
}
