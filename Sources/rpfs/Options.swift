import ArgumentParser
import BlockDevices
import FoundationEssentials
import KeyManagement
import NTFSVolume
import ObjectStores
import PartitionTable
import PointDisk
import PointNamespace
import RecoveryPoint

/// Where points live: a directory, `s3://BUCKET[/PREFIX]`, or an `http(s)://` prefix URL
/// (docs/STORES.md), and the local cache of a remote store's objects.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Store: a directory, s3://BUCKET[/PREFIX] or an https:// URL (default: $RPFS_STORE).", valueName: "STORE"))
    var store: String?

    @Option(help: ArgumentHelp("Directory caching a remote store's chunk objects (default: $XDG_CACHE_HOME/rpfs, else ~/.cache/rpfs).", valueName: "DIR"))
    var cacheDir: String?

    @Option(help: ArgumentHelp("Most the object cache may hold: 4G, 500M; 0 turns it off.", valueName: "SIZE"))
    var cacheMax: String = "4G"

    func validate() throws {
        _ = try address()
        guard ByteCount.parse(cacheMax) != nil else { throw ValidationError("--cache-max takes a size such as 4G or 500M, got '\(cacheMax)'") }
    }

    func address() throws -> StoreAddress {
        guard let text = store ?? ProcessInfo.processInfo.environment["RPFS_STORE"], !text.isEmpty else {
            throw ValidationError("no store given: pass --store STORE or set RPFS_STORE")
        }
        do {
            return try StoreAddress(parsing: text)
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// Opens the store; `create` makes a new one where there is none (rpfs create).
    func open(create: Bool = false) throws -> any ChunkStore {
        let environment = ProcessInfo.processInfo.environment
        let address = try address()
        if case let .directory(path) = address {
            return create ? try DirectoryStore.openOrCreate(path: path) : try DirectoryStore(path: path)
        }
        let maxBytes = ByteCount.parse(cacheMax) ?? 0
        let cache = maxBytes == 0 ? nil
            : ObjectCache.Settings(directory: cacheDir ?? ObjectCache.Settings.defaultDirectory(environment: environment), maxBytes: maxBytes)
        return try RemoteStore.open(address, environment: environment, cache: cache, create: create)
    }
}

/// Where KEKs come from: a keyring directory (default), a PKCS#11 token, or an external
/// KMS command. Exactly one is used; the first three options choose PKCS#11.
struct KeyringOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Keyring directory holding NAME/VERSION.pem (default: $RPFS_KEYRING).", valueName: "DIR"))
    var keyring: String?

    @Option(help: ArgumentHelp("PKCS#11 module (.so) of the HSM holding the KEKs, labelled NAME/VERSION.", valueName: "PATH"))
    var pkcs11Module: String?

    @Option(help: ArgumentHelp("Label of the PKCS#11 token.", valueName: "LABEL"))
    var pkcs11Token: String?

    @Option(help: ArgumentHelp("File holding the token's user PIN.", valueName: "FILE"))
    var pkcs11PinFile: String?

    @Option(help: ArgumentHelp("Command that unwraps DEKs through a KMS (protocol: docs/KEYS.md).", valueName: "CMD"))
    var unwrapCommand: String?

    @Option(help: ArgumentHelp("Seconds the unwrap command may take.", valueName: "SECONDS"))
    var unwrapTimeout: Int = 30

    func validate() throws {
        let pkcs11 = [pkcs11Module, pkcs11Token, pkcs11PinFile].compactMap { $0 }.count
        guard pkcs11 == 0 || pkcs11 == 3 else {
            throw ValidationError("PKCS#11 needs all of --pkcs11-module, --pkcs11-token and --pkcs11-pin-file")
        }
        guard pkcs11 == 0 || unwrapCommand == nil else {
            throw ValidationError("choose one key provider: PKCS#11 or --unwrap-command")
        }
        guard unwrapTimeout > 0 else { throw ValidationError("--unwrap-timeout must be positive") }
    }

    func provider() throws -> any KeyProvider {
        if let pkcs11Module, let pkcs11Token, let pkcs11PinFile {
            return try PKCS11Provider(module: pkcs11Module, tokenLabel: pkcs11Token, pinFile: pkcs11PinFile)
        }
        if let unwrapCommand {
            return ExternalCommandProvider(command: unwrapCommand, timeout: .seconds(unwrapTimeout))
        }
        guard let path = keyring ?? ProcessInfo.processInfo.environment["RPFS_KEYRING"], !path.isEmpty else {
            throw ValidationError("no keys given: pass --keyring DIR (or set RPFS_KEYRING), PKCS#11 options, or --unwrap-command")
        }
        return KeyringDirectory(path: path)
    }

    /// The provider for `rpfs keys`, which must be able to list and create versions.
    func administration() throws -> any KeyAdministration {
        guard let administration = try provider() as? any KeyAdministration else {
            throw ValidationError("an external unwrap command cannot list or create keys: manage them in the KMS")
        }
        return administration
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

    @Option(help: ArgumentHelp("Owner shown for NTFS files, which store none the POSIX way (default: you).", valueName: "UID:GID"))
    var ntfsOwner: String?

    @Option(help: ArgumentHelp("Modes shown for NTFS files and directories (default 444:555).", valueName: "FILE:DIR"))
    var ntfsModes: String = "444:555"

    func validate() throws {
        guard let size = ByteCount.parse(cacheSize), size >= 1 << 20, size <= 1 << 40 else {
            throw ValidationError("--cache-size must be between 1M and 1T, got '\(cacheSize)'")
        }
        _ = try readers()
    }

    /// The filesystem readers as these options configure them.
    func readers() throws -> VolumeReaders {
        var ownership = NTFSVolume.Ownership()
        if let ntfsOwner {
            let parts = ntfsOwner.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let uid = UInt32(parts[0]), let gid = UInt32(parts[1]) else {
                throw ValidationError("--ntfs-owner takes numeric UID:GID, got '\(ntfsOwner)'")
            }
            ownership.uid = uid
            ownership.gid = gid
        }
        let modes = ntfsModes.split(separator: ":", omittingEmptySubsequences: false)
        guard modes.count == 2, let file = UInt16(modes[0], radix: 8), let directory = UInt16(modes[1], radix: 8),
              file <= 0o7777, directory <= 0o7777 else {
            throw ValidationError("--ntfs-modes takes octal FILE:DIR modes such as 444:555, got '\(ntfsModes)'")
        }
        ownership.fileMode = file
        ownership.directoryMode = directory
        return VolumeReaders(ntfsOwnership: ownership)
    }

    func open(_ point: String) throws -> PointNamespace {
        let store = try storeOptions.open()
        return try open(try store.resolvePoint(point), in: store, provider: try keyringOptions.provider())
    }

    func open(_ id: PointID, in store: any ChunkStore, provider: any KeyProvider) throws -> PointNamespace {
        var options = PointNamespace.Options()
        options.skipEncryptedVolumes = skipEncryptedVolumes
        options.cacheSize = Int(ByteCount.parse(cacheSize) ?? UInt64(RecoveryPointDisk.defaultCacheSize))
        let namespace = try PointNamespace.open(id, in: store, provider: provider, options: options, opener: try readers().open)
        if !namespace.skippedVolumes.isEmpty {
            let list = namespace.skippedVolumes.map { "\($0.path) (\($0.info.kind.displayName))" }.joined(separator: ", ")
            Terminal.note("skipping volumes encrypted inside the guest: \(list)")
        }
        for note in namespace.notes { Terminal.note(note) }
        return namespace
    }
}
