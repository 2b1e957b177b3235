import ArgumentParser
import BlockDevices
import Catalog
import KeyManagement
import PointNamespace
import RecoveryPoint

struct CreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Make a recovery point from raw disk images; prints its id as the last line.")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var keyringOptions: KeyringOptions

    @Option(help: ArgumentHelp("KEK to wrap the DEK with: NAME (its newest version) or NAME/VERSION.", valueName: "KEK"))
    var kek: String

    @Option(name: .customLong("disk"), help: ArgumentHelp("Raw disk image (file or block device); repeat for disk0, disk1, ...", valueName: "IMAGE"))
    var disks: [String] = []

    @Option(help: "Source name recorded in the point (default: the first image's file name).")
    var name: String?

    @Option(help: ArgumentHelp("Parent point: shares its key and stores only chunks it lacks.", valueName: "POINT"))
    var parent: String?

    @Option(help: ArgumentHelp("Guest encryption of the source VM: none, ade-bitlocker, ade-dmcrypt.", valueName: "STATE"))
    var guestEncryption: String = GuestEncryption.none.name

    @Option(help: ArgumentHelp("Chunk size, a power of two from 64K to 16M.", valueName: "SIZE"))
    var chunkSize: String = "4M"

    func validate() throws {
        guard !disks.isEmpty else { throw ValidationError("give at least one --disk IMAGE") }
        guard GuestEncryption(name: guestEncryption) != nil else {
            throw ValidationError("--guest-encryption must be one of: \(GuestEncryption.allCases.map(\.name).joined(separator: ", "))")
        }
        _ = try chunkSizeLog2()
    }

    private func chunkSizeLog2() throws -> UInt8 {
        guard let size = ByteCount.parse(chunkSize), size.nonzeroBitCount == 1,
              (DiskLayout.minChunkSizeLog2 ... DiskLayout.maxChunkSizeLog2).contains(UInt8(size.trailingZeroBitCount))
        else { throw ValidationError("--chunk-size must be a power of two from 64K to 16M, got '\(chunkSize)'") }
        return UInt8(size.trailingZeroBitCount)
    }

    func run() throws {
        let store = try storeOptions.open(create: true)
        var request = PointRequest(images: disks, kek: try KEKReference(parsing: kek))
        request.sourceName = name
        request.parent = try parent.map { try store.resolvePoint($0) }
        request.guestEncryption = GuestEncryption(name: guestEncryption) ?? .none
        request.chunkSizeLog2 = try chunkSizeLog2()
        let bar = ProgressBar.start("create")
        let provider = try keyringOptions.provider()
        let (id, statistics) = try PointWriter.create(request, store: store, provider: provider, progress: bar?.reporter)
        bar?.finish()
        writeCatalog(id, store: store, provider: provider)
        if Terminal.isInteractive {
            Terminal.print("read \(ByteCount.format(statistics.bytesRead)): \(statistics.newChunks) chunks written, "
                + "\(statistics.reusedChunks) already stored, \(statistics.holeChunks) holes")
        }
        Terminal.print("\(id)")
    }

    /// Catalogs the new point from the images it was made from: their metadata only, with the
    /// chunk ids the writer stored. The point stands without it: a failure is a note, and
    /// `rpfs index` builds the catalog later.
    private func writeCatalog(_ id: PointID, store: any ChunkStore, provider: any KeyProvider) {
        do {
            let point = try OpenedPoint.open(id, in: store, provider: provider)
            let images: [any BlockDevice] = try disks.map { try FileBlockDevice(path: $0) }
            var options = PointNamespace.Options()
            options.skipEncryptedVolumes = true
            _ = try CatalogIndexing.build(point) {
                try PointNamespace.open(point, images: images, options: options, opener: VolumeReaders().open)
            }
        } catch {
            Terminal.note("point \(id) has no catalog (\(error)); 'rpfs index \(id)' builds it")
        }
    }
}
