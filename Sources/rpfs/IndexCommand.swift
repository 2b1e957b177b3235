import ArgumentParser
import Catalog
import PointNamespace

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
        for point in points {
            let namespace = try fileAccess.open(point)
            let summary = try CatalogIndexing.build(namespace)
            Terminal.print("\(namespace.pointID): \(summary.entries) entries catalogued"
                + (summary.problems > 0 ? ", \(summary.problems) with parts that could not be read" : ""))
        }
    }
}
