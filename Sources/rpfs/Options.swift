import ArgumentParser
import Foundation
import KeyManagement
import PointNamespace
import RecoveryPoint
import VirtualDisk

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

/// What every command that reads files (ls, cp, restore, mount) takes, and how it opens the
/// point: through `PointNamespace`, which refuses guest-encrypted points and volumes.
struct FileAccessOptions: ParsableArguments {
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var keyringOptions: KeyringOptions

    @Flag(help: "Open the point's other volumes when some are encrypted inside the guest (BitLocker, LUKS), leaving those out.")
    var skipEncryptedVolumes = false

    @Option(help: ArgumentHelp("Decrypted-chunk cache size (default 256M).", valueName: "SIZE"))
    var cacheSize: String = "256M"

    func validate() throws {
        guard let size = ByteCount.parse(cacheSize), size >= 1 << 20, size <= 1 << 40 else {
            throw ValidationError("--cache-size must be between 1M and 1T, got '\(cacheSize)'")
        }
    }

    func open(_ point: String) throws -> PointNamespace {
        let store = try storeOptions.open()
        let id = try store.resolvePoint(point)
        var options = PointNamespace.Options()
        options.skipEncryptedVolumes = skipEncryptedVolumes
        options.cacheSize = Int(ByteCount.parse(cacheSize) ?? UInt64(RecoveryPointDisk.defaultCacheSize))
        let namespace = try PointNamespace.open(id, in: store, provider: try keyringOptions.provider(), options: options,
                                                opener: VolumeReaders.open)
        if !namespace.skippedVolumes.isEmpty {
            let list = namespace.skippedVolumes.map { "\($0.path) (\($0.info.kind.displayName))" }.joined(separator: ", ")
            Terminal.note("skipping volumes encrypted inside the guest: \(list)")
        }
        return namespace
    }
}
