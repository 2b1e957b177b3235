#if canImport(Glibc)
import Glibc
#endif
import ByteParsing
import Cryptography
import POSIXFiles

/// KEKs behind a user's command, so that any KMS with a command-line client can serve
/// (`--unwrap-command CMD`). The protocol is in docs/KEYS.md; in short:
///
/// - rpfs runs `/bin/sh -c CMD` in a new process group, with the caller's environment plus
///   `RPFS_KEY_PROTOCOL=1`, `RPFS_OPERATION` (`unwrap`, `wrap` or `versions`),
///   `RPFS_KEK_NAME`, `RPFS_KEK_VERSION` (empty for `versions`), `RPFS_KEK` (`NAME/VERSION`),
///   `RPFS_WRAP_ALGORITHM=RSA-OAEP-SHA256` and `RPFS_DEK_LENGTH=32`.
/// - stdin: `unwrap` gets the wrapped DEK, `wrap` the DEK, as raw bytes; `versions` gets nothing.
/// - stdout: `unwrap` answers the raw DEK (exactly 32 bytes), `wrap` the raw wrapped DEK (the
///   RSA modulus size: 256, 384 or 512 bytes), `versions` one version per line, oldest first.
/// - exit status: 0 done; 2 no such KEK name or version; 3 the KEK did not open this wrapped
///   DEK; 4 operation not supported; anything else, or a signal, is a failure explained on stderr.
///
/// The DEK only ever crosses a socket: never arguments, environment, files or error messages.
/// A command that outlives `timeout` is killed with its whole process group.
public struct ExternalCommandProvider: KeyProvider {
    public let command: String
    public let timeout: Duration

    public static let defaultTimeout: Duration = .seconds(30)
    /// rpfs DEKs are AES-256 keys.
    public static let dekLength = 32
    /// RSA-2048, 3072 and 4096 ciphertexts.
    static let wrappedLengths: Set<Int> = [256, 384, 512]
    static let maxVersionsOutput = 64 * 1024
    static let maxErrorText = 2048

    /// Exit statuses of the protocol.
    public enum Status {
        public static let success: Int32 = 0
        public static let notFound: Int32 = 2
        public static let unwrapFailed: Int32 = 3
        public static let unsupported: Int32 = 4
    }

    public init(command: String, timeout: Duration = defaultTimeout) {
        self.command = command
        self.timeout = timeout
    }

    /// Names the program only: the rest of the command line may hold options a user would
    /// rather not see repeated in every error message.
    public var description: String {
        let program = command.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) ?? command
        return "unwrap command '\(program)'"
    }

    public func versions(of name: String) throws(KeyError) -> [String] {
        guard KEKIdentifier.isValidComponent(name) else { throw .invalidIdentifier(name, reason: "bad KEK name") }
        let outcome = try run("versions", name: name, version: "", input: UnsafeRawBufferPointer(start: nil, count: 0),
                              maxOutput: Self.maxVersionsOutput)
        switch outcome.status {
        case .exited(Status.success): break
        case .exited(Status.notFound): throw .kekNotFound(name: name, provider: description)
        default: throw failure(outcome, operation: "versions", kek: name)
        }
        let text = outcome.output.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        var versions: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let version = line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
            guard KEKIdentifier.isValidComponent(version) else {
                throw .provider("\(description) answered 'versions' for '\(name)' with a malformed version line (\(Self.printable(Array(version.utf8.prefix(80)))))")
            }
            versions.append(version)
        }
        guard !versions.isEmpty else { throw .kekNotFound(name: name, provider: description) }
        return Array(Set(versions)).sorted(by: KEKIdentifier.versionPrecedes)
    }

    public func unwrap(_ wrapped: [UInt8], with kek: KEKIdentifier) throws(KeyError) -> SecretBytes {
        let outcome = try Self.withBytes(wrapped) { (input) throws(KeyError) in
            try run("unwrap", name: kek.name, version: kek.version, input: input, maxOutput: Self.dekLength)
        }
        switch outcome.status {
        case .exited(Status.success): break
        case .exited(Status.notFound): throw notFound(kek)
        case .exited(Status.unwrapFailed): throw .unwrapFailed(kek)
        default: throw failure(outcome, operation: "unwrap", kek: kek.description)
        }
        guard outcome.output.count == Self.dekLength, !outcome.overflowed else {
            let size = outcome.overflowed ? "more than \(Self.dekLength) bytes" : "\(outcome.output.count) bytes"
            throw .provider("\(description) answered 'unwrap' for '\(kek)' with \(size); the protocol wants the raw \(Self.dekLength)-byte DEK on stdout and nothing else")
        }
        return outcome.output
    }

    public func wrap(_ dek: SecretBytes, with kek: KEKIdentifier) throws(KeyError) -> [UInt8] {
        let outcome = try dek.withUnsafeBytes { (input) throws(KeyError) in
            try run("wrap", name: kek.name, version: kek.version, input: input, maxOutput: Self.wrappedLengths.reduce(0, max))
        }
        switch outcome.status {
        case .exited(Status.success): break
        case .exited(Status.notFound): throw notFound(kek)
        case .exited(Status.unsupported): throw .provider("\(description) cannot wrap (exit 4): use a provider that holds the public key of '\(kek)'")
        default: throw failure(outcome, operation: "wrap", kek: kek.description)
        }
        let wrapped = outcome.output.withUnsafeBytes { Array($0) }
        guard Self.wrappedLengths.contains(wrapped.count), !outcome.overflowed else {
            let size = outcome.overflowed ? "more than 512 bytes" : "\(wrapped.count) bytes"
            throw .provider("\(description) answered 'wrap' for '\(kek)' with \(size); expected a raw RSA-OAEP ciphertext of 256, 384 or 512 bytes")
        }
        // A wrapping that does not open again would make a point unreadable: check it now.
        let back: SecretBytes
        do throws(KeyError) {
            back = try unwrap(wrapped, with: kek)
        } catch .unwrapFailed {
            throw .provider("\(description): the DEK it wrapped under '\(kek)' does not unwrap again; refusing to use it")
        }
        guard PKCS11Provider.equal(back, dek) else {
            throw .provider("\(description): the DEK it wrapped under '\(kek)' unwraps to a different key; refusing to use it")
        }
        return wrapped
    }

    // MARK: Errors

    private func notFound(_ kek: KEKIdentifier) -> KeyError {
        // Name the versions the command does have, when it can say.
        let available = (try? versions(of: kek.name)) ?? []
        if available.isEmpty { return .kekNotFound(name: kek.name, provider: description) }
        return .versionNotFound(kek, available: available, provider: description)
    }

    private func failure(_ outcome: Outcome, operation: String, kek: String) -> KeyError {
        let how: String
        switch outcome.status {
        case .exited(Status.unsupported): how = "does not support '\(operation)' (exit 4)"
        case let .exited(code): how = "failed (exit \(code))"
        case let .signaled(signal): how = "was killed by signal \(signal)"
        }
        let detail = outcome.stderr.isEmpty ? " and wrote nothing on stderr" : ": \(outcome.stderr)"
        return .provider("\(description) \(how) for '\(operation)' of KEK '\(kek)'\(detail)")
    }

    /// The command's words for an error message. Control characters stay: the CLI shows every
    /// message through `Terminal`, which makes them visible.
    static func printable(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
    }

    // MARK: Running the command

    struct Outcome {
        let status: ChildProcess.Status
        /// Standard output; for `unwrap` it is the DEK, so it lives in SecretBytes.
        let output: SecretBytes
        /// True when the command wrote more than `maxOutput` bytes (the rest was discarded).
        let overflowed: Bool
        let stderr: String
    }

    private func environment(operation: String, name: String, version: String) -> [String] {
        let ours = [
            "RPFS_KEY_PROTOCOL=1",
            "RPFS_OPERATION=\(operation)",
            "RPFS_KEK_NAME=\(name)",
            "RPFS_KEK_VERSION=\(version)",
            "RPFS_KEK=\(version.isEmpty ? name : "\(name)/\(version)")",
            "RPFS_WRAP_ALGORITHM=\(WrapAlgorithm.rsaOAEPSHA256.name)",
            "RPFS_DEK_LENGTH=\(Self.dekLength)",
        ]
        let reserved = Set(ours.map { String($0.prefix { $0 != "=" }) })
        var result: [String] = []
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if !reserved.contains(String(text.prefix { $0 != "=" })) { result.append(text) }
            entry += 1
        }
        return result + ours
    }

    /// Runs the command for one operation and collects its answer. The DEK may be on stdin
    /// or stdout: it only crosses sockets and a buffer wiped before release.
    private func run(_ operation: String, name: String, version: String, input: UnsafeRawBufferPointer,
                     maxOutput: Int) throws(KeyError) -> Outcome {
        let kek = version.isEmpty ? name : "\(name)/\(version)"
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: maxOutput, alignment: 16)
        defer {
            SecretBytes.wipe(output)
            output.deallocate()
        }
        let finished: ChildProcess.Outcome
        do throws(ChildProcess.RunError) {
            // Own process group, so that a timeout kills everything the command started.
            finished = try ChildProcess.run("/bin/sh", arguments: ["/bin/sh", "-c", command],
                                            environment: environment(operation: operation, name: name, version: version),
                                            ownProcessGroup: true, input: input, output: output,
                                            maxError: Self.maxErrorText, timeout: timeout)
        } catch {
            switch error {
            case .timedOut: throw .provider("\(description) timed out after \(timeout) for '\(operation)' of KEK '\(kek)' and was killed")
            case let .system(reason): throw .provider("\(description): cannot run it for '\(operation)' of KEK '\(kek)': \(reason)")
            }
        }
        let answer = UnsafeRawBufferPointer(rebasing: output[..<finished.outputCount])
        return Outcome(status: finished.status, output: SecretBytes(copying: answer),
                       overflowed: finished.outputOverflowed, stderr: Self.printable(finished.errorText))
    }

    /// Array.withUnsafeBytes rethrows untyped; this keeps the typed error.
    private static func withBytes<R>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(KeyError) -> R) throws(KeyError) -> R {
        let result: Result<R, KeyError> = bytes.withUnsafeBytes { raw in
            do throws(KeyError) { return .success(try body(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}
