import ArgumentParser
import KeyManagement
import RecoveryPoint

struct RewrapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rewrap",
        abstract: "Wrap a point's DEK under another KEK or version, without touching any chunk.",
        discussion: "After a plain rewrap only the new KEK version opens the point, so the old version can be deleted.")

    @Argument(help: ArgumentHelp("Point id, or a unique prefix of it.", valueName: "POINT"))
    var point: String

    @Option(help: ArgumentHelp("Target KEK: NAME (its newest version) or NAME/VERSION.", valueName: "KEK"))
    var kek: String

    @Flag(help: "Keep the existing wrappings too (the point then opens with either KEK).")
    var keepExisting = false

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var keyringOptions: KeyringOptions

    func run() throws {
        let store = try storeOptions.open()
        let id = try store.resolvePoint(point)
        let (from, to) = try Rewrap.rewrap(id, in: store, provider: try keyringOptions.provider(),
                                                         to: try KEKReference(parsing: kek), keepExisting: keepExisting)
        Terminal.print("point \(id): DEK was opened with \(from), now wrapped under \(to)\(keepExisting ? " (other wrappings kept)" : "")")
    }
}
