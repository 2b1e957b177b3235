import ArgumentParser
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import KeyManagement

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage KEKs in a keyring directory or on a PKCS#11 token.",
        subcommands: [NewCommand.self, ListCommand.self]
    )

    struct NewCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "new",
            abstract: "Create the next version of a KEK (the newest version is current).")

        @Argument(help: "KEK name: 1-64 of A-Z a-z 0-9 . _ -")
        var name: String

        @Option(help: "RSA key size: 2048, 3072 or 4096.")
        var bits: Int = KeyringDirectory.defaultBits

        @OptionGroup var keyringOptions: KeyringOptions

        func run() throws {
            let kek = try keyringOptions.administration().createVersion(of: name, bits: bits)
            Terminal.print("\(kek)")
        }
    }

    struct ListCommand: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List KEK names and their versions.")

        @Flag(help: "Print JSON: [{\"name\": ..., \"versions\": [...], \"current\": ...}].")
        var json = false

        @OptionGroup var keyringOptions: KeyringOptions

        func run() throws {
            let keys = try keyringOptions.administration().list()
            if json {
                struct Entry: Encodable {
                    let name: String
                    let versions: [String]
                    let current: String?
                }
                try JSONOutput.print(keys.map { Entry(name: $0.name, versions: $0.versions, current: $0.versions.last) })
            } else {
                for key in keys {
                    let current = key.versions.last.map { " (current: \($0))" } ?? ""
                    Terminal.print("\(key.name)\tversions \(key.versions.joined(separator: ", "))\(current)")
                }
            }
        }
    }
}

/// Every --json output goes through here: one encoder configuration, snake_case keys.
enum JSONOutput {
    static func print(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        write(try encoder.encode(value))
    }

    /// Writes encoded JSON and a line feed. JSONEncoder escapes C0 controls but leaves C1
    /// controls (U+0080-U+009F) raw, and UTF-8 terminals obey those: in the encoded bytes they
    /// can only be C2 80-9F inside a string, so they are rewritten as \u0080-\u009F.
    static func write(_ json: Data) {
        guard json.contains(0xC2) else { return toStandardOutput(json + [0x0A]) }
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
        out.append(0x0A)
        toStandardOutput(out)
    }

    /// Unbuffered: a message on stderr after the report (a failure count) follows it when
    /// both streams go to one file.
    private static func toStandardOutput(_ json: Data) {
        json.withUnsafeBytes { Terminal.write($0, to: STDOUT_FILENO) }
    }
}
