import Cryptography
import Foundation
import KeyManagement
import TestSupport
import Testing

/// An external key command backed by openssl and a keyring directory, as a KMS adapter would be.
private struct KeyCommand {
    let directory: TemporaryDirectory
    let keyring: KeyringDirectory
    let script: String

    static let oaep = "-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256"

    init() throws {
        directory = try TemporaryDirectory("rpfs-keycmd")
        keyring = try TestKeys.keyring(in: directory, name: "backup", versions: 2)
        try FileManager.default.createDirectory(atPath: directory.file("dump"), withIntermediateDirectories: true)
        // Records its environment and argv (its own and its shell's) for the leak check.
        script = try directory.write("kms.sh", Array("""
        #!/bin/sh
        keys="$1"; dump="$2"
        env > "$dump/env.$RPFS_OPERATION.$$"
        { cat /proc/$$/cmdline; echo; cat /proc/$PPID/cmdline; echo; } > "$dump/argv.$RPFS_OPERATION.$$"
        case "$RPFS_OPERATION" in
        versions)
            [ -d "$keys/$RPFS_KEK_NAME" ] || { echo "no KEK named $RPFS_KEK_NAME" >&2; exit 2; }
            ls "$keys/$RPFS_KEK_NAME" | sed -n 's/\\.pem$//p' ;;
        unwrap)
            key="$keys/$RPFS_KEK_NAME/$RPFS_KEK_VERSION.pem"
            [ -f "$key" ] || { echo "no KEK $RPFS_KEK" >&2; exit 2; }
            openssl pkeyutl -decrypt -inkey "$key" \(Self.oaep) 2>/dev/null || { echo "decryption failed" >&2; exit 3; } ;;
        wrap)
            key="$keys/$RPFS_KEK_NAME/$RPFS_KEK_VERSION.pem"
            [ -f "$key" ] || { echo "no KEK $RPFS_KEK" >&2; exit 2; }
            openssl pkeyutl -encrypt -inkey "$key" \(Self.oaep) ;;
        *) exit 4 ;;
        esac

        """.utf8))
        chmod(script, 0o755)
    }

    var provider: ExternalCommandProvider {
        ExternalCommandProvider(command: "\(script) '\(directory.file("keys"))' '\(directory.file("dump"))'", timeout: .seconds(20))
    }

    func dumps() throws -> [Data] {
        try FileManager.default.contentsOfDirectory(atPath: directory.file("dump")).map {
            try Data(contentsOf: URL(fileURLWithPath: directory.file("dump/\($0)")))
        }
    }
}

@Suite struct ExternalCommandProviderTests {
    private func same(_ a: SecretBytes, _ b: SecretBytes) -> Bool {
        a.withUnsafeBytes { x in b.withUnsafeBytes { y in Array(x) == Array(y) } }
    }

    @Test func unwrapsWrapsAndListsThroughTheCommand() throws {
        let command = try KeyCommand()
        let provider = command.provider
        #expect(provider.description == "unwrap command '\(command.script)'")
        #expect(try provider.versions(of: "backup") == ["1", "2"])
        #expect(try provider.resolve(KEKReference(parsing: "backup")).version == "2")
        for version in ["1", "2"] {
            let kek = try KEKIdentifier(name: "backup", version: version)
            let dek = try SecretBytes(randomCount: 32)
            #expect(same(try provider.unwrap(command.keyring.wrap(dek, with: kek), with: kek), dek))
            let wrapped = try provider.wrap(dek, with: kek)
            #expect(wrapped.count == 256)
            #expect(same(try command.keyring.unwrap(wrapped, with: kek), dek))
        }
    }

    @Test func theDEKNeverReachesArgumentsOrEnvironment() throws {
        let command = try KeyCommand()
        let provider = command.provider
        let kek = try KEKIdentifier(name: "backup", version: "1")
        let dek = try SecretBytes(randomCount: 32)
        _ = try provider.unwrap(command.keyring.wrap(dek, with: kek), with: kek)
        _ = try provider.wrap(dek, with: kek)
        let raw = dek.withUnsafeBytes { Data($0) }
        let hex = raw.map { String(format: "%02x", $0) }.joined()
        let needles = [raw, Data(hex.utf8), Data(hex.uppercased().utf8), Data(raw.base64EncodedString().utf8)]
        let dumps = try command.dumps()
        #expect(dumps.count >= 6) // env and argv of at least unwrap, wrap and wrap's check
        for dump in dumps {
            for needle in needles { #expect(dump.range(of: needle) == nil) }
        }
        // What the command does see: the protocol variables.
        let environment = dumps.map { String(decoding: $0, as: UTF8.self) }.joined()
        #expect(environment.contains("RPFS_OPERATION=unwrap") && environment.contains("RPFS_KEK=backup/1"))
        #expect(environment.contains("RPFS_KEK_NAME=backup") && environment.contains("RPFS_KEK_VERSION=1"))
        #expect(environment.contains("RPFS_WRAP_ALGORITHM=RSA-OAEP-SHA256"))
    }

    @Test func missingNamesAndVersionsAreKeyErrors() throws {
        let command = try KeyCommand()
        let provider = command.provider
        #expect {
            try provider.unwrap([UInt8](repeating: 7, count: 256), with: KEKIdentifier(name: "backup", version: "9"))
        } throws: { error in
            guard case let KeyError.versionNotFound(kek, available, _) = error else { return false }
            return kek.version == "9" && available == ["1", "2"]
        }
        #expect {
            try provider.versions(of: "vault")
        } throws: { error in
            guard case let KeyError.kekNotFound(name, _) = error else { return false }
            return name == "vault"
        }
        // Exit 3: the key exists but does not open this wrapped DEK.
        let dek = try SecretBytes(randomCount: 32)
        let underOne = try command.keyring.wrap(dek, with: KEKIdentifier(name: "backup", version: "1"))
        #expect {
            try provider.unwrap(underOne, with: KEKIdentifier(name: "backup", version: "2"))
        } throws: { error in
            guard case let KeyError.unwrapFailed(kek) = error else { return false }
            return kek.description == "backup/2"
        }
    }

    private func failure(of command: String, timeout: Duration = .seconds(10)) throws -> String {
        let provider = ExternalCommandProvider(command: command, timeout: timeout)
        let kek = try KEKIdentifier(name: "backup", version: "1")
        do {
            _ = try provider.unwrap([UInt8](repeating: 0x5A, count: 256), with: kek)
        } catch {
            return "\(error)"
        }
        throw TestFailure("\(command) did not fail")
    }

    @Test func failuresAreExplained() throws {
        let failed = try failure(of: "echo 'kms: AccessDenied for key backup' >&2; exit 1")
        #expect(failed.contains("exit 1") && failed.contains("AccessDenied") && failed.contains("backup/1") && failed.contains("'echo'"))
        let silent = try failure(of: "exit 7")
        #expect(silent.contains("exit 7") && silent.contains("nothing on stderr"))
        let short = try failure(of: "cat >/dev/null; head -c 31 /dev/zero")
        #expect(short.contains("31 bytes") && short.contains("32-byte"))
        let long = try failure(of: "head -c 33 /dev/zero")
        #expect(long.contains("more than 32 bytes"))
        let killed = try failure(of: "kill -9 $$")
        #expect(killed.contains("signal 9"))
        let unsupported = try failure(of: "exit 4")
        #expect(unsupported.contains("does not support 'unwrap'"))
        // The command's words are carried whole; the CLI's one output sink makes their control
        // characters visible (TerminalOutputTests).
        let hostile = try failure(of: "printf 'bad\\033[2Jthing' >&2; exit 1")
        #expect(hostile.contains("bad\u{1B}[2Jthing"))
    }

    @Test func aCommandPastItsTimeoutIsKilledWithItsChildren() throws {
        let directory = try TemporaryDirectory()
        let pidFile = directory.file("sleeper")
        let start = ContinuousClock.now
        let message = try failure(of: "sleep 30 & echo $! > '\(pidFile)'; wait", timeout: .milliseconds(500))
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(message.contains("timed out") && message.contains("backup/1"))
        // The background sleep was in the command's process group: it is gone too.
        let pid = try #require(Int32(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        var gone = false
        for _ in 0 ..< 100 {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            if stat.isEmpty || stat.contains(") Z ") { gone = true; break }
            usleep(20_000)
        }
        #expect(gone)
        // A command that closes its output but keeps running is also cut off.
        let lingering = try failure(of: "exec >&- 2>&-; sleep 30", timeout: .milliseconds(300))
        #expect(lingering.contains("timed out"))
    }

    @Test func aWrapThatDoesNotOpenAgainIsRefused() throws {
        let command = try KeyCommand()
        // Wraps under version 2's key while claiming version 1.
        let liar = ExternalCommandProvider(command: """
            if [ "$RPFS_OPERATION" = wrap ]; then RPFS_KEK_VERSION=2; fi; \(command.provider.command)
            """, timeout: .seconds(20))
        let dek = try SecretBytes(randomCount: 32)
        #expect {
            try liar.wrap(dek, with: KEKIdentifier(name: "backup", version: "1"))
        } throws: { error in
            "\(error)".contains("does not unwrap again")
        }
    }
}
