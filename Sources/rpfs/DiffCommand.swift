import ArgumentParser
import Catalog
import RecoveryPoint

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "What changed between two points, from their catalogs: added, removed, modified (content or type), metadata.")

    @Argument(help: ArgumentHelp("The earlier point.", valueName: "POINT_A"))
    var pointA: String

    @Argument(help: ArgumentHelp("The later point.", valueName: "POINT_B"))
    var pointB: String

    @Argument(help: ArgumentHelp("Only paths at or under this one.", valueName: "PATH"))
    var path: String?

    @Flag(help: "Print an array of {path, change} objects.")
    var json = false

    @OptionGroup var fileAccess: FileAccessOptions

    func validate() throws {
        if let path, !path.hasPrefix("/") { throw ValidationError("PATH starts with /, got '\(path)'") }
    }

    func run() throws {
        let store = try fileAccess.storeOptions.open()
        let provider = try fileAccess.keyringOptions.provider()
        let a = try fileAccess.catalogPoint(try store.resolvePoint(pointA), in: store, provider: provider)
        let b = try fileAccess.catalogPoint(try store.resolvePoint(pointB), in: store, provider: provider)
        var stream = JSONStream(enabled: json)
        var diff = try CatalogDiff(a, b, under: path)
        while let difference = try diff.next() {
            if json {
                try stream.add(DifferenceJSON(path: difference.path, change: difference.change.rawValue))
            } else {
                let word = difference.change.rawValue
                Terminal.print(word + String(repeating: " ", count: 9 - word.count) + difference.path)
            }
        }
        stream.finish()
    }
}

struct DifferenceJSON: Encodable {
    let path: String
    let change: String
}
