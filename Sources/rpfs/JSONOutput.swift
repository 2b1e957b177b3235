import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Every --json output goes through here: one encoder configuration, snake_case keys.
enum JSONOutput {
    static func print(_ value: some Encodable) throws {
        write(try encode(value))
    }

    /// `value` as rpfs writes JSON: pretty-printed, keys sorted and snake_case (`dryRun` is
    /// `dry_run`, `sha256` stays `sha256`).
    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return try encoder.encode(value)
    }

    /// Writes encoded JSON and a line feed. JSONEncoder escapes C0 controls but leaves C1
    /// controls (U+0080-U+009F) raw, and UTF-8 terminals obey those: in the encoded bytes they
    /// can only be C2 80-9F inside a string, so they are rewritten as \u0080-\u009F.
    static func write(_ json: Data, lineFeed: Bool = true) {
        let end: [UInt8] = lineFeed ? [0x0A] : []
        guard json.contains(0xC2) else { return toStandardOutput(json + end) }
        var out = Data(capacity: json.count + 1)
        var bytes = json.makeIterator()
        while let byte = bytes.next() {
            guard byte == 0xC2, let next = bytes.next() else {
                out.append(byte)
                continue
            }
            if (0x80 ... 0x9F).contains(next) {
                out.append(contentsOf: Array(String(cFormat: "\\u%04x", CUnsignedInt(next)).utf8))
            } else {
                out.append(contentsOf: [byte, next])
            }
        }
        out.append(contentsOf: end)
        toStandardOutput(out)
    }

    /// Unbuffered: a message on stderr after the report (a failure count) follows it when
    /// both streams go to one file.
    private static func toStandardOutput(_ json: Data) {
        json.withUnsafeBytes { Terminal.write($0, to: STDOUT_FILENO) }
    }
}

/// A JSON array written one element at a time, so that a long answer (find over many points,
/// a diff of millions of paths) is never held whole in memory. Does nothing when not enabled.
struct JSONStream {
    let enabled: Bool
    private var count = 0

    init(enabled: Bool) {
        self.enabled = enabled
    }

    mutating func add(_ value: some Encodable) throws {
        guard enabled else { return }
        JSONOutput.write(Data((count == 0 ? "[\n" : ",\n").utf8), lineFeed: false)
        JSONOutput.write(try JSONOutput.encode(value), lineFeed: false)
        count += 1
    }

    func finish() {
        guard enabled else { return }
        JSONOutput.write(Data((count == 0 ? "[]" : "\n]").utf8))
    }
}
