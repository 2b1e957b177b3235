import ArgumentParser
import KeyManagement
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
        let (id, statistics) = try PointWriter.create(request, store: store, provider: try keyringOptions.provider(),
                                                      progress: bar?.reporter)
        bar?.finish()
        if Terminal.isInteractive {
            Terminal.print("read \(ByteCount.format(statistics.bytesRead)): \(statistics.newChunks) chunks written, "
                + "\(statistics.reusedChunks) already stored, \(statistics.holeChunks) holes")
        }
        Terminal.print("\(id)")
    }
}
