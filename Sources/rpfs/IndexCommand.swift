import ArgumentParser
import Catalog
import PointNamespace
import RecoveryPoint

struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Build (or build again) the catalog of points: for points made before catalogs, or whose catalog is missing or damaged.")

    @Argument(help: ArgumentHelp("Point ids, or unique prefixes of them.", valueName: "POINT"))
    var points: [String]

    @OptionGroup var fileAccess: FileAccessOptions

    func validate() throws {
        guard !points.isEmpty else { throw ValidationError("name at least one POINT") }
    }

    func run() throws {
        let store = try fileAccess.storeOptions.open()
        let provider = try fileAccess.keyringOptions.provider()
        for point in points {
            let id = try store.resolvePoint(point)
            let summary = try CatalogIndexing.build(try OpenedPoint.open(id, in: store, provider: provider)) {
                try fileAccess.open(id, in: store, provider: provider)
            }
            Terminal.print("\(id): \(summary.entries) entr\(summary.entries == 1 ? "y" : "ies") catalogued"
                + (summary.problems > 0 ? ", \(summary.problems) with parts that could not be read" : ""))
        }
    }
}
