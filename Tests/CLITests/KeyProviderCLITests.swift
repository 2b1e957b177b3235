import Foundation
import TestSupport
import Testing

/// The CLI with keys that are not PEM files: a SoftHSM2 token (PKCS#11) and an external
/// command speaking docs/KEYS.md's protocol (here: openssl over a keyring file, as a KMS CLI
/// would over its vault).
@Suite struct KeyProviderCLITests {
    @Test func pointsLiveAndRotateOnAPKCS11Token() throws {
        let cli = try CLIFixture()
        let directory = cli.directory
        let tokens = directory.file("tokens")
        try FileManager.default.createDirectory(atPath: tokens, withIntermediateDirectories: true)
        let config = try directory.write("softhsm2.conf", Array("directories.tokendir = \(tokens)\nobjectstore.backend = file\n".utf8))
        let pin = try directory.write("pin", Array("1234\n".utf8))
        var environment = cli.environment
        environment["SOFTHSM2_CONF"] = config
        let initialised = try Shell.run("softhsm2-util", ["--init-token", "--free", "--label", "rpfs-cli", "--pin", "1234", "--so-pin", "5678"],
                                        environment: environment)
        #expect(initialised.status == 0, "\(initialised.stderr)")
        let token = ["--pkcs11-module", "/usr/lib/softhsm/libsofthsm2.so", "--pkcs11-token", "rpfs-cli", "--pkcs11-pin-file", pin]
        func rpfs(_ arguments: [String]) throws -> CommandResult {
            try Shell.run(rpfsBinary, arguments + token, environment: environment)
        }
        #expect(try rpfs(["keys", "new", "vault", "--bits", "2048"]).stdout == "vault/1\n")
        let created = try rpfs(["create", "--kek", "vault", "--disk", directory.file("disk.img"), "--chunk-size", "64K"])
        #expect(created.status == 0, "\(created.stderr)")
        let id = String(created.stdout.split(separator: "\n").last ?? "")
        #expect(try rpfs(["verify", id]).stdout.contains("all authentic"))
        // Rotation on the token: a new version, rewrap, and the point opens with it alone.
        #expect(try rpfs(["keys", "new", "vault", "--bits", "2048"]).stdout == "vault/2\n")
        #expect(try rpfs(["rewrap", id, "--kek", "vault"]).stdout.contains("now wrapped under vault/2"))
        let inspect = try rpfs(["inspect", id])
        #expect(inspect.stdout.contains("unwrapped    with vault/2"), "\(inspect.stderr)")
        #expect(try rpfs(["keys", "list"]).stdout.contains("vault\tversions 1, 2 (current: 2)"))
        // A wrong PIN is a key error, not a crash.
        let wrongPin = try directory.write("wrong-pin", Array("0000\n".utf8))
        let refused = try Shell.run(rpfsBinary, ["verify", id, "--pkcs11-module", "/usr/lib/softhsm/libsofthsm2.so",
                                                 "--pkcs11-token", "rpfs-cli", "--pkcs11-pin-file", wrongPin], environment: environment)
        #expect(refused.status == 4, "\(refused.stderr)")
    }

    @Test func anExternalCommandUnwrapsThroughItsOwnKMS() throws {
        let cli = try CLIFixture()
        let id = try cli.create()
        let script = try cli.directory.write("kms", Array("""
            #!/bin/sh
            # Protocol 1 (docs/KEYS.md): wrapped DEK on stdin, DEK on stdout, 2 = no such key.
            key="\(cli.directory.file("keys"))/$RPFS_KEK_NAME/$RPFS_KEK_VERSION.pem"
            [ -f "$key" ] || { echo "no key $RPFS_KEK" >&2; exit 2; }
            case "$RPFS_OPERATION" in
              unwrap) exec openssl pkeyutl -decrypt -inkey "$key" -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 ;;
              versions) ls "\(cli.directory.file("keys"))/$RPFS_KEK_NAME" | sed -n 's/\\.pem$//p' ;;
              *) exit 4 ;;
            esac

            """.utf8))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
        var environment = cli.environment
        environment["RPFS_KEYRING"] = nil
        let verified = try Shell.run(rpfsBinary, ["verify", id, "--unwrap-command", script], environment: environment)
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains("all authentic"))
        // The command says the version is gone: a key error naming it.
        try FileManager.default.removeItem(atPath: cli.directory.file("keys/backup/1.pem"))
        let missing = try Shell.run(rpfsBinary, ["verify", id, "--unwrap-command", script], environment: environment)
        #expect(missing.status == 4)
        #expect(missing.stderr.contains("backup/1"))
        // An unwrap-only command cannot manage keys.
        #expect(try Shell.run(rpfsBinary, ["keys", "list", "--unwrap-command", script], environment: environment).status == 2)
    }

    /// rpfs makes itself non-dumpable: no core file, and no other process of the same user
    /// may read its memory, environment or descriptors through /proc while it holds a DEK.
    /// Probed from the unwrap command itself, a process of that user running while rpfs waits
    /// for the DEK (as nobody: root would pass any check).
    @Test func otherProcessesOfTheSameUserCannotLookInside() throws {
        let cli = try CLIFixture()
        let id = try cli.create()
        let probe = cli.directory.file("probe")
        let script = try cli.directory.write("kms", Array("""
            #!/bin/sh
            # rpfs runs this through `sh -c`: rpfs is the parent of that shell.
            rpfs=$(cut -d ' ' -f 4 /proc/$PPID/stat)
            if cat /proc/$rpfs/environ >/dev/null 2>&1; then echo readable; else echo denied; fi > "\(probe)/answer"
            exec openssl pkeyutl -decrypt -inkey "\(cli.directory.file("keys"))/$RPFS_KEK_NAME/$RPFS_KEK_VERSION.pem" \\
                -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256

            """.utf8))
        try FileManager.default.createDirectory(atPath: probe, withIntermediateDirectories: true)
        try Shell.check("chmod", ["-R", "a+rX", cli.directory.path])
        try Shell.check("chmod", ["0755", script])
        try Shell.check("chmod", ["0777", probe])
        var environment = cli.environment
        environment["RPFS_KEYRING"] = nil
        let asNobody = ["--reuid=65534", "--regid=65534", "--clear-groups", rpfsBinary, "verify", id, "--unwrap-command", script]
        let verified = try Shell.run("setpriv", asNobody, environment: environment)
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(try String(contentsOfFile: "\(probe)/answer", encoding: .utf8) == "denied\n")
    }
}
