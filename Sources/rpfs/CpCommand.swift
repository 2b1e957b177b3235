import ArgumentParser
import FileRestore

struct CpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cp",
        abstract: "Copy a file or a tree out of a point, with its metadata.",
        discussion: """
        Keeps contents (holes stay holes), mode, numeric owner and group (when run as root), access and \
        modification times with nanoseconds, symlinks as symlinks, hard links as hard links within the copy, \
        FIFOs, device nodes (as root), and extended attributes and ACLs where the destination supports them. \
        Every byte is authenticated as it is read. Nothing is written outside DEST, and a file appears under \
        its name only once it is complete. With -R, a file or directory the point cannot give (a damaged \
        chunk, a corrupt structure) is named on stderr and left out, everything else is copied, and the \
        command exits with that error's status (5 for damage) at the end; --fail-fast stops at the first.
        """)

    @Argument(help: ArgumentHelp("What to copy.", valueName: "POINT:PATH"))
    var source: String

    @Argument(help: ArgumentHelp("Where to: into it if it is a directory, else as this name.", valueName: "DEST"))
    var destination: String

    @Flag(name: .customShort("R"), help: "Copy directories and everything below them.")
    var recursive = false

    @Flag(help: "Replace files that exist at the destination.")
    var force = false

    @Flag(help: "Stop at the first file or directory the point cannot give, instead of copying everything else.")
    var failFast = false
    @OptionGroup var access: FileAccessOptions

    func validate() throws {
        guard source.contains(":") else { throw ValidationError("the source is POINT:PATH, e.g. 01a2:/disk0/part1/etc/hostname") }
    }

    func run() throws {
        let (point, path) = PointPath.split(source)
        let namespace = try access.open(point)
        var options = CopyOptions()
        options.force = force
        options.recursive = recursive
        options.failFast = failFast
        let bar = ProgressBar.start("cp")
        let report = try CopyOut(namespace: namespace, options: options, progress: bar?.reporter) { failure in
            Terminal.error("\(failure)")
        }.copy(from: path, to: destination)
        bar?.finish()
        for note in report.notes { Terminal.note(note) }
        if Terminal.isInteractive {
            Terminal.print("copied \(report.files) files (\(ByteCount.format(report.bytes))), \(report.directories) directories, "
                + "\(report.symlinks) symlinks, \(report.hardLinks) hard links, \(report.specialFiles) special files")
        }
        if !report.failures.isEmpty {
            // Damage decides the status over any other failure: it is what the user must know.
            let statuses = report.failures.compactMap { ExitStatus(for: $0) }
            let status = statuses.contains(.integrity) ? .integrity : statuses.first ?? .error
            throw CommandError(status: status, description: "\(report.failures.count) items could not be copied (named above); everything else was")
        }
    }
}
