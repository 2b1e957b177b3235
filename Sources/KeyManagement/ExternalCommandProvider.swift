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

    private func run(_ operation: String, name: String, version: String, input: UnsafeRawBufferPointer,
                     maxOutput: Int) throws(KeyError) -> Outcome {
        let kek = version.isEmpty ? name : "\(name)/\(version)"
        func cannotRun(_ reason: String) -> KeyError {
            .provider("\(description): cannot run it for '\(operation)' of KEK '\(kek)': \(reason)")
        }
        // Sockets, not pipes: send(MSG_NOSIGNAL) cannot raise SIGPIPE when the command exits
        // without reading its input, and SOCK_CLOEXEC keeps them out of unrelated children.
        var stdinPair: [Int32] = [-1, -1], stdoutPair: [Int32] = [-1, -1], stderrPair: [Int32] = [-1, -1]
        defer { for fd in stdinPair + stdoutPair + stderrPair where fd >= 0 { close(fd) } }
        let socketType = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        for index in 0 ..< 3 {
            var pair: [Int32] = [-1, -1]
            guard socketpair(AF_UNIX, socketType, 0, &pair) == 0 else { throw cannotRun("socketpair: \(String(cString: strerror(errno)))") }
            switch index {
            case 0: stdinPair = pair
            case 1: stdoutPair = pair
            default: stderrPair = pair
            }
        }

        // Own process group, so that a timeout can kill everything the command started.
        let pid: pid_t
        do {
            pid = try ChildProcess.spawn("/bin/sh", arguments: ["/bin/sh", "-c", command],
                                         environment: environment(operation: operation, name: name, version: version),
                                         input: stdinPair[1], output: stdoutPair[1], error: stderrPair[1], ownProcessGroup: true)
        } catch {
            throw cannotRun("\(error)")
        }
        for index in [1] {
            close(stdinPair[index]); stdinPair[index] = -1
            close(stdoutPair[index]); stdoutPair[index] = -1
            close(stderrPair[index]); stderrPair[index] = -1
        }

        let deadline = ContinuousClock.now + timeout
        // Standard output may be the DEK: it goes into a buffer that is wiped before release.
        let capacity = maxOutput + 1
        let scratchStart = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        let scratch = UnsafeMutableRawBufferPointer(start: scratchStart, count: capacity)
        defer {
            SecretBytes.wipe(scratch)
            scratchStart.deallocate()
        }
        var outputLength = 0
        var overflowed = false
        var errorText: [UInt8] = []
        var sent = 0
        var inputOpen = true
        var outputOpen = true
        var errorOpen = true
        var timedOut = false
        var discard = [UInt8](repeating: 0, count: 4096)
        defer { discard.withUnsafeMutableBytes { SecretBytes.wipe($0) } }

        while outputOpen || errorOpen {
            if inputOpen, sent >= input.count {
                close(stdinPair[0]); stdinPair[0] = -1
                inputOpen = false
            }
            var fds: [pollfd] = []
            if inputOpen { fds.append(pollfd(fd: stdinPair[0], events: Int16(POLLOUT), revents: 0)) }
            if outputOpen { fds.append(pollfd(fd: stdoutPair[0], events: Int16(POLLIN), revents: 0)) }
            if errorOpen { fds.append(pollfd(fd: stderrPair[0], events: Int16(POLLIN), revents: 0)) }
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { timedOut = true; break }
            let milliseconds = Int32(clamping: remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000 + 1)
            let ready = poll(&fds, nfds_t(fds.count), milliseconds)
            if ready < 0 {
                let code = errno
                if code == EINTR { continue }
                kill(-pid, SIGKILL)
                _ = ChildProcess.wait(for: pid)
                throw cannotRun("poll: \(String(cString: strerror(code)))")
            }
            for descriptor in fds where descriptor.revents != 0 {
                if inputOpen, descriptor.fd == stdinPair[0] {
                    // Only reached with input left to send, so the buffer has a base address.
                    let count = input.baseAddress.map { send(descriptor.fd, $0 + sent, input.count - sent, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) } ?? 0
                    if count > 0 {
                        sent += count
                    } else if count < 0, errno != EAGAIN, errno != EINTR {
                        // The command closed its stdin without reading it all; its answer decides.
                        close(stdinPair[0]); stdinPair[0] = -1
                        inputOpen = false
                    }
                } else if descriptor.fd == stdoutPair[0] {
                    let count: Int
                    if outputLength < capacity {
                        count = read(descriptor.fd, scratchStart + outputLength, capacity - outputLength)
                        if count > 0 { outputLength += count }
                    } else {
                        count = read(descriptor.fd, &discard, discard.count)
                    }
                    if outputLength > maxOutput { overflowed = true }
                    if count == 0 || (count < 0 && errno != EINTR && errno != EAGAIN) { outputOpen = false }
                } else if descriptor.fd == stderrPair[0] {
                    let count = read(descriptor.fd, &discard, discard.count)
                    if count > 0, errorText.count < Self.maxErrorText {
                        errorText += discard.prefix(min(count, Self.maxErrorText - errorText.count))
                    }
                    if count == 0 || (count < 0 && errno != EINTR && errno != EAGAIN) { errorOpen = false }
                }
            }
        }

        // Output is closed; wait for the exit itself, still under the deadline.
        var status: ChildProcess.Status?
        while !timedOut {
            if let done = ChildProcess.status(of: pid) { status = done; break }
            if ContinuousClock.now >= deadline { timedOut = true; break }
            usleep(5000)
        }
        guard let status, !timedOut else {
            kill(-pid, SIGKILL)
            _ = ChildProcess.wait(for: pid)
            throw .provider("\(description) timed out after \(timeout) for '\(operation)' of KEK '\(kek)' and was killed")
        }
        let length = min(outputLength, maxOutput)
        return Outcome(status: status, output: SecretBytes(copying: UnsafeRawBufferPointer(rebasing: scratch[..<length])),
                       overflowed: overflowed, stderr: Self.printable(errorText))
    }

    /// Array.withUnsafeBytes rethrows untyped; this keeps the typed error.
    private static func withBytes<R>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(KeyError) -> R) throws(KeyError) -> R {
        let result: Result<R, KeyError> = bytes.withUnsafeBytes { raw in
            do throws(KeyError) { return .success(try body(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}
