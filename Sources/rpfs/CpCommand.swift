import Archives
import ArgumentParser
import FileRestore
import PointNamespace

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

        With --archive zip|tar, PATH and everything below it is written as one archive to --output (a file, \
        or - for standard output) while it is read: tar keeps owners, nanosecond times, xattrs, ACLs, hard \
        links, device nodes and holes; zip keeps modes, times and symlinks (docs/ARCHIVES.md). Anything the \
        point cannot give stops the archive with an error and no file is left under the --output name.
        """)

    @Argument(help: ArgumentHelp("What to copy.", valueName: "POINT:PATH"))
    var source: String

    @Argument(help: ArgumentHelp("Where to: into it if it is a directory, else as this name (not with --archive).", valueName: "DEST"))
    var destination: String?

    @Flag(name: .customShort("R"), help: "Copy directories and everything below them.")
    var recursive = false

    @Flag(help: "Replace files that exist at the destination.")
    var force = false

    @Flag(help: "Stop at the first file or directory the point cannot give, instead of copying everything else.")
    var failFast = false

    @Option(help: ArgumentHelp("Write PATH as one archive instead of copying files: zip or tar.", valueName: "FORMAT"))
    var archive: ArchiveFormat?

    @Option(help: ArgumentHelp("The archive's file, or - for standard output (with --archive).", valueName: "FILE"))
    var output: String?

    @OptionGroup var access: FileAccessOptions

    func validate() throws {
        guard source.contains(":") else { throw ValidationError("the source is POINT:PATH, e.g. 01a2:/disk0/part1/etc/hostname") }
        if archive != nil {
            guard output != nil, destination == nil else { throw ValidationError("--archive writes to --output FILE (or - for standard output), not to DEST") }
            guard !failFast else { throw ValidationError("an archive always stops at the first item the point cannot give: --fail-fast does not apply") }
        } else {
            guard destination != nil else { throw ValidationError("give DEST, or --archive with --output") }
            guard output == nil else { throw ValidationError("--output goes with --archive") }
        }
    }

    func run() throws {
        let (point, path) = PointPath.split(source)
        let namespace = try access.open(point)
        if let archive, let output {
            try writeArchive(archive, of: path, in: namespace, to: output)
            return
        }
        guard let destination else { return }
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

extension CpCommand {
    private func writeArchive(_ format: ArchiveFormat, of path: String, in namespace: PointNamespace, to output: String) throws {
        let file = try ArchiveFile(output)
        let report: ArchiveReport
        do {
            report = try Archive.write(format, from: path, of: namespace, to: file)
            try file.publish(replace: force)
        } catch {
            file.discard()
            throw error
        }
        for note in report.notes { Terminal.note(note) }
        if Terminal.isInteractive, output != "-" {
            Terminal.print("archived \(report.files) files (\(ByteCount.format(report.contentBytes))), \(report.directories) directories, "
                + "\(report.symlinks) symlinks, \(report.hardLinks) hard links, \(report.specialFiles) special files "
                + "in \(ByteCount.format(report.archiveBytes)) of \(format.rawValue)")
        }
    }
}
