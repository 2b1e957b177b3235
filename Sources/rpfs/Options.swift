import ArgumentParser
import Foundation
import KeyManagement
import RecoveryPoint

struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Store directory (default: $RPFS_STORE).", valueName: "DIR"))
    var store: String?

    func path() throws -> String {
        guard let path = store ?? ProcessInfo.processInfo.environment["RPFS_STORE"], !path.isEmpty else {
            throw ValidationError("no store given: pass --store DIR or set RPFS_STORE")
        }
        return path
    }

    func open() throws -> DirectoryStore {
        try DirectoryStore(path: path())
    }
}

struct KeyringOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Keyring directory holding NAME/VERSION.pem (default: $RPFS_KEYRING).", valueName: "DIR"))
    var keyring: String?

    func provider() throws -> KeyringDirectory {
        guard let path = keyring ?? ProcessInfo.processInfo.environment["RPFS_KEYRING"], !path.isEmpty else {
            throw ValidationError("no keyring given: pass --keyring DIR or set RPFS_KEYRING")
        }
        return KeyringDirectory(path: path)
    }
}

/// Where commands that read one point find it.
struct PointOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("Point id, or a unique prefix of it.", valueName: "POINT"))
    var point: String

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var keyringOptions: KeyringOptions

    func open() throws -> OpenedPoint {
        let store = try storeOptions.open()
        let id = try store.resolvePoint(point)
        return try OpenedPoint.open(id, in: store, provider: try keyringOptions.provider())
    }
}
