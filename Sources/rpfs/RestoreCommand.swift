import ArgumentParser
import FileRestore
import POSIXFiles

extension ConflictPolicy: ExpressibleByArgument {}

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore the files a plan names into a directory, and report each one.",
        discussion: """
        Paths and plan entries are patterns in the point: '*', '?', '[a-z]' within a name and '**' across \
        directories, matched by the volume's case rules (case-insensitive on NTFS). Without a destination \
        in the plan, each file goes to DIR/<its path in the point>. Metadata is kept as by `rpfs cp`; each \
        file appears under its name only once complete, and nothing is written outside DIR. The report \
        (--json, --report) has one record per file with its SHA-256. Plan format and report schema: \
        docs/RESTORE.md. Exit status 7 when some files failed or a pattern matched nothing.
        """)

    @Argument(help: ArgumentHelp("Point id, or a unique prefix of it.", valueName: "POINT"))
    var point: String

    @Argument(help: ArgumentHelp("Paths or patterns in the point to restore (instead of --plan).", valueName: "PATH"))
    var paths: [String] = []

    @Option(help: ArgumentHelp("Directory to restore into (made if missing).", valueName: "DIR"))
    var to: String

    @Option(help: ArgumentHelp("Plan file: JSON, or one path per line.", valueName: "FILE"))
    var plan: String?

    @Flag(help: "Print the report as JSON on stdout.")
    var json = false

    @Option(help: ArgumentHelp("Also write the JSON report to this file.", valueName: "FILE"))
    var report: String?

    @Flag(help: "List what would be restored, with sizes and the total; write nothing.")
    var dryRun = false

    @Flag(help: "Continue an interrupted restore: files it finished, and that are still intact, are kept.")
    var resume = false

    @Option(help: ArgumentHelp("When a file exists at the destination: skip, overwrite or rename (NAME.restored-N).", valueName: "POLICY"))
    var onConflict: ConflictPolicy = .skip

    @Flag(help: "Read each restored file back from the destination's disk and check its SHA-256.")
    var verify = false

    @OptionGroup var access: FileAccessOptions

    func validate() throws {
        guard (plan == nil) != paths.isEmpty else { throw ValidationError("give either --plan FILE or PATHs to restore, not both or neither") }
        guard onConflict != .fail else { throw ValidationError("--on-conflict takes skip, overwrite or rename") }
    }

    func run() throws {
        // The plan first: a bad plan fails before any key is asked for.
        let restorePlan = try plan.map { try RestorePlan(parsing: Files.read($0, limit: RestorePlan.maxBytes + 1)) }
            ?? RestorePlan(patterns: paths)
        let namespace = try access.open(point)
        var options = RestoreOptions()
        options.conflict = onConflict
        options.resume = resume
        options.verify = verify
        options.dryRun = dryRun
        let bar = dryRun ? nil : ProgressBar.start("restore")
        let result = try Restore(namespace: namespace, plan: restorePlan, to: to, options: options) { progress in
            bar?.update(progress.bytes, progress.totalBytes, files: (progress.files, progress.totalFiles))
        }.run()
        bar?.finish()

        if report != nil || json {
            let encoded = try JSONOutput.encode(result)
            if let report { try Files.writeAtomically(report, bytes: Array(encoded), durable: false) }
            if json { JSONOutput.write(encoded) }
        }
        if !json {
            printHuman(result)
        }
        guard result.isComplete else {
            let missing = result.unmatched.isEmpty ? "" : ", \(result.unmatched.count) patterns matched nothing"
            throw CommandError(status: .partial, description: "restore incomplete: \(result.totals.failed) failed\(missing)")
        }
    }

    private func printHuman(_ result: RestoreReport) {
        for note in result.notes { Terminal.note(note) }
        for pattern in result.unmatched { Terminal.note("no match: \(pattern)") }
        for record in result.files where record.status == .failed { Terminal.note("failed: \(record.path): \(record.reason ?? "")") }
        let totals = result.totals
        if result.dryRun {
            for record in result.files where record.status == .planned {
                Terminal.print("\(Self.column(ByteCount.format(record.size), width: 10)) \(record.path) -> \(record.destination)")
            }
            Terminal.print("would restore \(totals.restored) files, \(ByteCount.format(totals.bytes)), to \(to)")
            return
        }
        Terminal.print("restored \(totals.restored) files (\(ByteCount.format(totals.bytes))), skipped \(totals.skipped), failed \(totals.failed) "
            + "in \(String(cFormat: "%.2f", totals.elapsedSeconds)) s (\(ByteCount.format(UInt64(totals.bytesPerSecond)))/s)")
    }

    /// `text` cut or filled with spaces to `width` characters: a column.
    private static func column(_ text: String, width: Int) -> String {
        String(text.prefix(width)) + String(repeating: " ", count: max(0, width - text.count))
    }
}
