import ArgumentParser
import RecoveryPoint

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Read and authenticate every chunk of a point: will this backup restore?")

    @OptionGroup var pointOptions: PointOptions

    func run() throws {
        let point = try pointOptions.open()
        let bar = ProgressBar.start("verify")
        let report = Verifier.verify(point, progress: bar?.reporter)
        bar?.finish()
        for problem in report.problems {
            Terminal.print("DAMAGED  \(problem)")
        }
        let summary = "\(report.chunksChecked) chunks (\(ByteCount.format(report.bytesChecked))) of point \(point.header.id) checked"
        guard report.problems.isEmpty else {
            throw CommandError(status: .integrity, description: "\(summary): \(report.problems.count) damaged or missing; the byte ranges listed will not restore")
        }
        Terminal.print("\(summary): all authentic")
    }
}
