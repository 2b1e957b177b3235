import ArgumentParser
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
