import ArgumentParser
import KeyManagement
import RecoveryPoint

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a point: its disks and key state; checks that its metadata authenticates.")

    @Argument(help: ArgumentHelp("Point id, or a unique prefix of it.", valueName: "POINT"))
    var point: String

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var keyringOptions: KeyringOptions

    @Flag(help: "Print JSON (the schema is in README.md).")
    var json = false

    func run() throws {
        let store = try storeOptions.open()
        let id = try store.resolvePoint(point)
        let header = try OpenedPoint.header(id, in: store)
        let provider = try keyringOptions.provider()
        let states = header.wrappedKeys.map { key -> String? in
            do throws(KeyError) {
                return try provider.versions(of: key.kek.name).contains(key.kek.version) ? "available" : "missing"
            } catch .kekNotFound {
                return "missing"
            } catch {
                return "\(error)"
            }
        }
        var report = PointReport(header, keyStates: states)
        // Whatever fails below, show what is known first: that is what a user needs to decide.
        var failure: (any Error)?
        do {
            let opened = try OpenedPoint.open(id, in: store, provider: provider)
            report.unwrappedWith = opened.kek.description
            report.metadata = "authenticated"
        } catch {
            failure = error
            report.metadata = "not verified"
        }
        if json {
            try JSONOutput.print(report)
        } else {
            printText(report)
        }
        if let failure { throw failure }
    }

    private func printText(_ report: PointReport) {
        print("point        \(report.id)")
        print("created      \(report.created)")
        print("name         \(report.name)")
        print("parent       \(report.parent ?? "none")")
        print("guest enc.   \(report.guestEncryption)")
        for key in report.wrappedKeys {
            print("wrapped DEK  \(key.kek) (\(key.algorithm)): \(key.state ?? "unknown")")
        }
        print("unwrapped    \(report.unwrappedWith.map { "with \($0)" } ?? "no")")
        print("metadata     \(report.metadata ?? "not verified")")
        for disk in report.disks {
            let stored = UInt64(disk.chunkSize) * disk.storedChunks
            print("disk \(disk.name)   \(ByteCount.format(disk.size)) (\(disk.size) bytes), chunk \(ByteCount.format(UInt64(disk.chunkSize))), "
                + "\(disk.storedChunks)/\(disk.chunks) chunks stored (about \(ByteCount.format(min(stored, disk.size)))), "
                + "\(disk.chunks - disk.storedChunks) holes")
        }
    }
}
