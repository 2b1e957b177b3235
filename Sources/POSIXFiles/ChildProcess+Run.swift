#if canImport(Glibc)
import Glibc
#endif

extension ChildProcess {
    /// What a program run to its end left behind.
    public struct Outcome: Sendable {
        public let status: Status
        /// Bytes of standard output stored at the start of the caller's buffer.
        public let outputCount: Int
        /// The program wrote more than the caller's buffer holds; the rest was read and dropped.
        public let outputOverflowed: Bool
        /// The start of standard error, at most `maxError` bytes.
        public let errorText: [UInt8]
    }

    public enum RunError: Error, Sendable, CustomStringConvertible {
        /// A call needed to start or watch the program failed (a started program was killed).
        case system(SystemError)
        /// The program outlived its timeout and was killed, with its process group if it has one.
        case timedOut

        public var description: String {
            switch self {
            case let .system(error): "\(error)"
            case .timedOut: "timed out"
            }
        }
    }

    /// Runs `path` (see `spawn`) to its end. `input` is written to its stdin, which is then
    /// closed (the program may stop reading early); its stdout goes to `output`, and whatever
    /// does not fit is read and dropped; the first `maxError` bytes of its stderr are kept and
    /// the rest dropped, so the program never blocks on a full stream. A nil `input` or
    /// `output` leaves the program rpfs's own. With a `timeout`, a program still running
    /// after it is killed (its whole process group, with `ownProcessGroup`).
    ///
    /// Standard output may be a key: it only ever lands in the caller's buffer, and the
    /// scratch space that received the dropped rest is wiped.
    public static func run(_ path: String, arguments: [String], environment: [String]? = nil, ownProcessGroup: Bool = false,
                           input: UnsafeRawBufferPointer? = nil, output: UnsafeMutableRawBufferPointer? = nil,
                           maxError: Int, timeout: Duration? = nil) throws(RunError) -> Outcome {
        let exchange = StreamExchange(input: input, output: output, maxError: maxError, program: path)
        let ends = try exchange.connect()
        let pid: pid_t
        do {
            defer { for end in ends.all { close(end) } }
            pid = try spawn(path, arguments: arguments, environment: environment, input: ends.input, output: ends.output,
                            error: ends.error, ownProcessGroup: ownProcessGroup)
        } catch {
            throw .system(error)
        }
        let deadline = timeout.map { ContinuousClock.now + $0 }
        do throws(RunError) {
            try exchange.pump(until: deadline)
            // The streams are closed; wait for the exit itself, still under the deadline.
            guard let status = waitForExit(pid, until: deadline) else { throw .timedOut }
            return Outcome(status: status, outputCount: exchange.outputCount, outputOverflowed: exchange.overflowed,
                           errorText: exchange.errorText)
        } catch {
            kill(ownProcessGroup ? -pid : pid, SIGKILL)
            _ = wait(for: pid)
            throw error
        }
    }

    /// The exit status of `pid`, or nil when it is still running at `deadline`.
    private static func waitForExit(_ pid: pid_t, until deadline: ContinuousClock.Instant?) -> Status? {
        guard let deadline else { return wait(for: pid) }
        while true {
            if let done = status(of: pid) { return done }
            if ContinuousClock.now >= deadline { return nil }
            usleep(5000)
        }
    }
}

/// The parent's side of a child's standard streams: sends the input, collects the output and
/// the start of the error stream. Sockets, not pipes: send(MSG_NOSIGNAL) cannot raise SIGPIPE
/// when the program exits without reading its input, and SOCK_CLOEXEC keeps them out of
/// unrelated children.
private final class StreamExchange {
    /// The child's ends of the sockets, to close once it has been started.
    struct ChildEnds {
        var input: Int32?
        var output: Int32?
        var error: Int32?
        var all: [Int32] { [input, output, error].compactMap(\.self) }
    }

    private let input: UnsafeRawBufferPointer?
    private let output: UnsafeMutableRawBufferPointer?
    private let maxError: Int
    private let program: String
    private var toInput: Int32 = -1
    private var fromOutput: Int32 = -1
    private var fromError: Int32 = -1
    private var sent = 0
    private(set) var outputCount = 0
    private(set) var overflowed = false
    private(set) var errorText: [UInt8] = []
    /// Receives what is dropped, which may be the end of a key.
    private var scratch = [UInt8](repeating: 0, count: 4096)

    init(input: UnsafeRawBufferPointer?, output: UnsafeMutableRawBufferPointer?, maxError: Int, program: String) {
        self.input = input
        self.output = output
        self.maxError = maxError
        self.program = program
    }

    deinit {
        for end in [toInput, fromOutput, fromError] where end >= 0 { close(end) }
        scratch.withUnsafeMutableBytes { if let base = $0.baseAddress { explicit_bzero(base, $0.count) } }
    }

    /// Makes a socket pair per captured stream; returns the child's ends.
    func connect() throws(ChildProcess.RunError) -> ChildEnds {
        var ends = ChildEnds()
        do throws(ChildProcess.RunError) {
            if input != nil { (toInput, ends.input) = try socketPair() }
            if output != nil { (fromOutput, ends.output) = try socketPair() }
            (fromError, ends.error) = try socketPair()
        } catch {
            for end in ends.all { close(end) }
            throw error
        }
        return ends
    }

    private func socketPair() throws(ChildProcess.RunError) -> (parent: Int32, child: Int32) {
        var pair: [Int32] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, type, 0, &pair) == 0 else { throw .system(SystemError("socketpair for", path: program, errno: errno)) }
        return (pair[0], pair[1])
    }

    /// Moves bytes until the child closes its output streams, or throws at `deadline`.
    func pump(until deadline: ContinuousClock.Instant?) throws(ChildProcess.RunError) {
        while fromOutput >= 0 || fromError >= 0 {
            if toInput >= 0, sent >= input?.count ?? 0 { closeInput() }
            var watched: [pollfd] = []
            if toInput >= 0 { watched.append(pollfd(fd: toInput, events: Int16(POLLOUT), revents: 0)) }
            for end in [fromOutput, fromError] where end >= 0 { watched.append(pollfd(fd: end, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&watched, nfds_t(watched.count), try Self.milliseconds(until: deadline))
            if ready < 0 {
                if errno == EINTR { continue }
                throw .system(SystemError("poll for", path: program, errno: errno))
            }
            for descriptor in watched where descriptor.revents != 0 {
                switch descriptor.fd {
                case toInput: sendInput()
                case fromOutput: readOutput()
                default: readError()
                }
            }
        }
    }

    /// A poll timeout: -1 without a deadline; throws once the deadline has passed.
    private static func milliseconds(until deadline: ContinuousClock.Instant?) throws(ChildProcess.RunError) -> Int32 {
        guard let deadline else { return -1 }
        let remaining = ContinuousClock.now.duration(to: deadline)
        guard remaining > .zero else { throw .timedOut }
        let (seconds, attoseconds) = remaining.components
        return Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
    }

    private func sendInput() {
        // Only polled with input left to send, so the buffer has a base address.
        guard let input, let base = input.baseAddress else { return closeInput() }
        let count = send(toInput, base + sent, input.count - sent, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
        if count > 0 {
            sent += count
        } else if count < 0, errno != EAGAIN, errno != EINTR {
            // The program closed its stdin without reading it all; its answer decides.
            closeInput()
        }
    }

    private func readOutput() {
        let count: Int
        if let output, let base = output.baseAddress, outputCount < output.count {
            count = read(fromOutput, base + outputCount, output.count - outputCount)
            if count > 0 { outputCount += count }
        } else {
            count = read(fromOutput, &scratch, scratch.count)
            if count > 0 { overflowed = true }
        }
        if Self.ended(count) { close(fromOutput); fromOutput = -1 }
    }

    private func readError() {
        let count = read(fromError, &scratch, scratch.count)
        if count > 0, errorText.count < maxError {
            errorText += scratch.prefix(min(count, maxError - errorText.count))
        }
        if Self.ended(count) { close(fromError); fromError = -1 }
    }

    private func closeInput() {
        close(toInput)
        toInput = -1
    }

    /// End of stream, or an error other than a retry.
    private static func ended(_ count: Int) -> Bool {
        count == 0 || (count < 0 && errno != EINTR && errno != EAGAIN)
    }
}
