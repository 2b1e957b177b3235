import ArgumentParser
import Catalog
import RecoveryPoint
import VolumeModel

struct VersionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "versions",
        abstract: "The distinct versions of a path across the points of one VM (same --name, or linked by --parent), oldest first.")

    @Argument(help: ArgumentHelp("A point of the VM and the path in it.", valueName: "POINT:PATH"))
    var target: String

    @Flag(help: "Print an array of {points, size, mtime, metadata_only, type} objects.")
    var json = false

    @OptionGroup var fileAccess: FileAccessOptions

    func validate() throws {
        guard PointPath.split(target).path.hasPrefix("/"), target.contains(":") else {
            throw ValidationError("give POINT:PATH with an absolute PATH, got '\(target)'")
        }
    }

    func run() throws {
        let (pointText, path) = PointPath.split(target)
        let store = try fileAccess.storeOptions.open()
        let provider = try fileAccess.keyringOptions.provider()
        let lineage = try Self.lineage(of: try store.resolvePoint(pointText), in: store)
        var points: [CatalogPoint] = []
        for id in lineage {
            do {
                points.append(try fileAccess.catalogPoint(id, in: store, provider: provider))
            } catch let error as RecoveryPointError {
                guard case .key = error else { throw error }
                Terminal.note("skipping point \(id): \(error)")
            }
        }
        let versions = try PathVersions.of(path, in: points)
        guard !versions.isEmpty else { throw CommandError(status: .notFound, description: "\(path): in none of the \(points.count) points of this VM") }
        if json {
            try JSONOutput.print(versions.map(VersionJSON.init))
            return
        }
        for (number, version) in versions.enumerated() {
            let entry = version.entry
            Terminal.print("version \(number + 1)\(version.metadataOnly ? " (metadata only)" : ""): \(entry.kind.rawValue), \(entry.size) bytes, "
                + "modified \(TimeFormat.rfc3339(entry.modified))")
            for id in version.points { Terminal.print("  \(id)") }
        }
    }

    /// The points of the same VM as `id`, oldest first: those with its source name, and those
    /// its `--parent` links reach either way.
    static func lineage(of id: PointID, in store: any ChunkStore) throws -> [PointID] {
        let headers = Dictionary(uniqueKeysWithValues: try store.pointIDs().map { ($0, try OpenedPoint.header($0, in: store)) })
        guard let start = headers[id] else { throw RecoveryPointError.pointNotFound(id.description, store: store.location) }
        var linked: Set<PointID> = [id]
        var changed = true
        while changed {
            changed = false
            for (other, header) in headers where !linked.contains(other) {
                let parentLinked = header.parent.map { linked.contains($0) } ?? false
                let childLinked = linked.contains { headers[$0]?.parent == other }
                if parentLinked || childLinked || header.sourceName == start.sourceName {
                    linked.insert(other)
                    changed = true
                }
            }
        }
        return linked.sorted()
    }
}

struct VersionJSON: Encodable {
    let points: [String]
    let type: String
    let size: UInt64
    let mtime: String
    let metadataOnly: Bool

    init(_ version: PathVersions.Version) {
        points = version.points.map(\.description)
        type = version.entry.kind.rawValue
        size = version.entry.size
        mtime = TimeFormat.rfc3339(version.entry.modified)
        metadataOnly = version.metadataOnly
    }
}
