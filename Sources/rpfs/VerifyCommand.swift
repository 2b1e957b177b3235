import ArgumentParser
import Catalog
import PointNamespace
import RecoveryPoint

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Read and authenticate every chunk of a point: will this backup restore?")

    @Argument(help: ArgumentHelp("Point id, or a unique prefix of it.", valueName: "POINT"))
    var point: String

    @Flag(help: "For each damaged or missing chunk, name the files and metadata it held (what is lost).")
    var files = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    @OptionGroup var access: FileAccessOptions

    func run() throws {
        let store = try access.storeOptions.open()
        let opened = try OpenedPoint.open(try store.resolvePoint(point), in: store, provider: try access.keyringOptions.provider())
        let bar = ProgressBar.start("verify")
        let report = Verifier.verify(opened, progress: bar?.reporter)
        bar?.finish()
        let survey = files && !report.problems.isEmpty ? try survey(report, opened) : nil
        if json {
            try JSONOutput.print(VerifyReport(opened, report, survey))
        } else {
            for problem in report.problems {
                Terminal.print("DAMAGED  \(problem)")
            }
            if let survey { Self.print(survey) }
        }
        let summary = "\(report.chunksChecked) chunks (\(ByteCount.format(report.bytesChecked))) of point \(opened.header.id) checked"
        guard report.problems.isEmpty else {
            let lost = survey.map { "; \($0.files.count) files lose bytes, \($0.metadata.count) paths lose their metadata" } ?? ""
            throw CommandError(status: .integrity, description: "\(summary): \(report.problems.count) damaged or missing\(lost); the byte ranges listed will not restore")
        }
        if !json { Terminal.print("\(summary): all authentic") }
    }

    /// What the damaged chunks held, from the tree and, when the point has one, its catalog.
    private func survey(_ report: Verifier.Report, _ opened: OpenedPoint) throws -> DamageSurvey {
        let namespace = try access.open(point)
        let catalog: CatalogStream?
        do {
            catalog = try CatalogStream(opened)
        } catch {
            // No catalog (or a damaged one): the walk alone tells what it can.
            Terminal.note("\(error): what lies below unreadable metadata is not named")
            catalog = nil
        }
        let damaged = Set(report.problems.map { DamageSurvey.Chunk(disk: $0.disk, index: $0.index) })
        return try DamageSurvey.survey(namespace, damaged: damaged, catalog: catalog)
    }

    private static func print(_ survey: DamageSurvey) {
        for file in survey.files {
            let ranges = file.ranges.map { "\($0.lowerBound)-\($0.upperBound - 1)" }.joined(separator: ", ")
            Terminal.print("LOST     \(file.path): bytes \(ranges) of \(file.size)")
        }
        for item in survey.metadata {
            Terminal.print("LOST     \(item.path) and everything below it: \(item.problem)")
            for path in item.below { Terminal.print("           \(path)") }
        }
        for note in survey.notes {
            Terminal.print("READ AROUND  \(note)")
        }
    }
}

/// `rpfs verify --json`.
private struct VerifyReport: Encodable {
    struct Chunk: Encodable {
        let disk: String
        let index: UInt64
        let problem: String?
    }

    struct LostFile: Encodable {
        let path: String
        let size: UInt64
        /// [first, end) byte offsets.
        let lostRanges: [[UInt64]]
        let chunks: [Chunk]
    }

    struct LostMetadata: Encodable {
        let path: String
        let problem: String
        let below: [String]?
    }

    let point: String
    let chunksChecked: Int
    let bytesChecked: UInt64
    let damaged: [Chunk]
    let files: [LostFile]?
    let metadata: [LostMetadata]?
    let readAround: [String]?

    init(_ point: OpenedPoint, _ report: Verifier.Report, _ survey: DamageSurvey?) {
        self.point = point.header.id.description
        chunksChecked = report.chunksChecked
        bytesChecked = report.bytesChecked
        damaged = report.problems.map { Chunk(disk: point.header.disks[$0.disk].name, index: $0.index, problem: $0.description) }
        files = survey?.files.map { LostFile(path: $0.path, size: $0.size, lostRanges: $0.ranges.map { [$0.lowerBound, $0.upperBound] },
                                             chunks: $0.chunks.map { Chunk(disk: point.header.disks[$0.disk].name, index: $0.index, problem: nil) }) }
        metadata = survey?.metadata.map { LostMetadata(path: $0.path, problem: $0.problem, below: survey?.usedCatalog == true ? $0.below : nil) }
        readAround = survey?.notes
    }
}
