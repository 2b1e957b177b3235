import FoundationEssentials
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Every line of text output leaves through here. Names, labels and messages carry bytes from
/// the backup, and a hostile image can name a file with escape sequences that would retitle,
/// clear or reprogram the terminal showing them; see `visible`.
enum Terminal {
    /// One line on standard output (buffered). On a terminal its control characters are
    /// shown as "?", as `ls -q` does; piped, the line goes out exactly, so scripts get the
    /// names' real text (and `--json` escapes them).
    static func print(_ line: String) {
        Swift.print(standardOutputIsTerminal ? visible(line, keepingLineBreaks: false) : line)
    }

    static func error(_ message: String) {
        toStandardError("rpfs: error: \(message)")
    }

    static func note(_ message: String) {
        toStandardError("rpfs: \(message)")
    }

    /// Messages are for people wherever they go (a log file is read with `cat` later), so
    /// they are always made visible; their own line breaks stay.
    private static func toStandardError(_ line: String) {
        write(visible(line, keepingLineBreaks: true) + "\n", to: STDERR_FILENO)
    }

    /// Unbuffered, unlike `print`: a message or a report is out before whatever comes next
    /// on the other stream, however many write(2) calls that takes.
    static func write(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) {
        var done = 0
        while done < bytes.count, let base = bytes.baseAddress {
            let count = Glibc.write(descriptor, base + done, bytes.count - done)
            if count > 0 {
                done += count
            } else if count == 0 || errno != EINTR {
                return
            }
        }
    }

    static func write(_ text: String, to descriptor: Int32) {
        var text = text
        text.withUTF8 { write(UnsafeRawBufferPointer($0), to: descriptor) }
    }

    /// `text` with "?" for every character that a terminal acts on instead of showing: C0
    /// controls but tab (and line feed when kept), DEL, and C1 controls (U+0080-U+009F, which
    /// UTF-8 terminals read as CSI and friends).
    static func visible(_ text: String, keepingLineBreaks: Bool) -> String {
        func acts(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar.value {
            case 0x09: false
            case 0x0A: !keepingLineBreaks
            case 0x00 ..< 0x20, 0x7F ... 0x9F: true
            default: false
            }
        }
        guard text.unicodeScalars.contains(where: acts) else { return text }
        var shown = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            shown.append(acts(scalar) ? "?" : scalar)
        }
        return String(shown)
    }

    private static let standardOutputIsTerminal = isatty(STDOUT_FILENO) == 1

    /// Progress bars only when a person is watching: stdout and stderr both terminals.
    static var isInteractive: Bool { isatty(STDOUT_FILENO) == 1 && isatty(STDERR_FILENO) == 1 }
}

/// A one-line progress bar on stderr, redrawn at most ten times a second.
final class ProgressBar: Sendable {
    private let label: String
    private let started = Date()
    private let lastDraw = Mutex<Date?>(nil)

    /// nil when the session is not interactive: callers pass it along as an optional callback.
    static func start(_ label: String) -> ProgressBar? {
        Terminal.isInteractive ? ProgressBar(label: label) : nil
    }

    private init(label: String) {
        self.label = label
    }

    /// The bar as the progress callback the library layers take.
    var reporter: @Sendable (_ done: UInt64, _ total: UInt64) -> Void {
        { [self] done, total in update(done, total) }
    }

    /// Redraws with bytes `done` of `total`; `files` adds a count of files, as restore shows.
    func update(_ done: UInt64, _ total: UInt64, files: (done: Int, total: Int)? = nil) {
        let now = Date()
        let due = lastDraw.withLock { last in
            guard done >= total || last.map({ now.timeIntervalSince($0) >= 0.1 }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return }
        let fraction = total == 0 ? 1 : min(1, Double(done) / Double(total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let elapsed = max(now.timeIntervalSince(started), 0.001)
        let speed = Double(done) / elapsed
        let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
        let count = files.map { " \($0.done)/\($0.total) files" } ?? ""
        let eta = speed > 0 && total > done ? " ETA \(Self.duration(Double(total - done) / speed))" : ""
        let line = "\r\(label) [\(bar)] \(Int(fraction * 100))%\(count) \(ByteCount.format(done))/\(ByteCount.format(total)) "
            + "\(ByteCount.format(UInt64(speed)))/s\(eta)\u{1B}[K"
        Terminal.write(line, to: STDERR_FILENO)
    }

    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        return whole >= 3600 ? String(cFormat: "%ld:%02ld:%02ld", whole / 3600, whole / 60 % 60, whole % 60)
            : String(cFormat: "%ld:%02ld", whole / 60, whole % 60)
    }

    func finish() {
        Terminal.write("\r\u{1B}[K", to: STDERR_FILENO)
    }
}

/// Sizes as people write them: 4M, 64KiB, 1G, 65536.
enum ByteCount {
    static func parse(_ text: String) -> UInt64? {
        let units: [(String, UInt64)] = [("kib", 1 << 10), ("mib", 1 << 20), ("gib", 1 << 30), ("tib", 1 << 40),
                                         ("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30), ("t", 1 << 40)]
        let lower = text.lowercased()
        for (suffix, factor) in units where lower.hasSuffix(suffix) {
            guard let number = UInt64(lower.dropLast(suffix.count)) else { return nil }
            let (value, overflow) = number.multipliedReportingOverflow(by: factor)
            return overflow ? nil : value
        }
        return UInt64(lower)
    }

    static func format(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(cFormat: "%.1f ", value) + units[unit]
    }
}

extension String {
    /// printf formatting by the C library, as Foundation's `String(format:)` (not in
    /// FoundationEssentials) did: numbers come out the same. Integers go as `Int` (`%ld`).
    init(cFormat format: String, _ arguments: any CVarArg...) {
        let length = Swift.max(0, Int(withVaList(arguments) { vsnprintf(nil, 0, format, $0) }))
        self.init(unsafeUninitializedCapacity: length + 1) { buffer in
            buffer.withMemoryRebound(to: CChar.self) { text in
                _ = withVaList(arguments) { vsnprintf(text.baseAddress, text.count, format, $0) }
            }
            return length
        }
    }
}
