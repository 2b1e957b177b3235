import ArgumentParser
import CLinux
#if canImport(Glibc)
import Glibc
#endif

@main
struct RPFS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rpfs",
        abstract: "File-level restore from encrypted VM recovery points.",
        discussion: """
        Exit codes: 0 ok, 1 error, 2 usage, 3 refused (guest encryption), 4 key error,
        5 integrity error, 6 not found, 7 restore incomplete (some files failed).
        --store and --keyring default to $RPFS_STORE and $RPFS_KEYRING.
        """,
        version: "0.1.0",
        subcommands: [KeysCommand.self, CreateCommand.self, PointsCommand.self, InspectCommand.self, VerifyCommand.self, RewrapCommand.self,
                      LsCommand.self, CpCommand.self, RestoreCommand.self, MountCommand.self, UnmountCommand.self, ServeCommand.self,
                      IndexCommand.self, FindCommand.self, VersionsCommand.self, DiffCommand.self]
    )

    static func main() {
        // Before any key is read: nothing of this process may reach a core file or a
        // same-user debugger (docs/SECURITY.md).
        _ = rpfs_make_nondumpable()
        do {
            var command = try parseAsRoot()
            try command.run()
            end(.ok)
        } catch {
            if let status = ExitStatus(for: error) {
                Terminal.error("\(error)")
                end(status)
            }
            // Parser errors: help and version exit 0; bad usage exits 2 (not the parser's 64).
            if exitCode(for: error) == .validationFailure {
                Terminal.error(fullMessage(for: error))
                end(.usage)
            }
            exit(withError: error)
        }
    }

    /// Ends the process once its output is out, without running exit-time destructors: a
    /// PKCS#11 module's C++ statics (SoftHSM's) and OpenSSL's teardown would otherwise run
    /// while read-ahead threads still decrypt, and crash (seen as SIGSEGV after `inspect`).
    private static func end(_ status: ExitStatus) -> Never {
        fflush(nil)
        _exit(status.rawValue)
    }
}
