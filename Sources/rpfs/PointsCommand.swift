import ArgumentParser
import RecoveryPoint

struct PointsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "points",
        abstract: "List the points in a store (no key needed).")

    @OptionGroup var storeOptions: StoreOptions

    @Flag(help: "Print JSON (the schema is in rpfs(1), JSON OUTPUT).")
    var json = false

    func run() throws {
        let store = try storeOptions.open()
        var reports: [PointReport] = []
        var unreadable = 0
        for id in try store.pointIDs() {
            do {
                reports.append(PointReport(try OpenedPoint.header(id, in: store)))
            } catch {
                // One damaged point file must not hide the others.
                Terminal.error("\(error)")
                unreadable += 1
            }
        }
        if json {
            try JSONOutput.print(reports)
        } else {
            for report in reports {
                let disks = report.disks.map { "\($0.name) \(ByteCount.format($0.size))" }.joined(separator: ", ")
                let keks = report.wrappedKeys.map(\.kek).joined(separator: ", ")
                let guest = report.guestEncryption == GuestEncryption.none.name ? "" : "  guest-encryption \(report.guestEncryption)"
                Terminal.print("\(report.id)  \(report.created)  \(report.name)  [\(disks)]  kek \(keks)\(guest)")
            }
        }
        if unreadable > 0 {
            throw CommandError(status: .integrity, description: "\(unreadable) point file(s) could not be read")
        }
    }
}
