#if canImport(Glibc)
import Glibc
#endif
import Archives
import ArgumentParser
import POSIXFiles

extension ArchiveFormat: ExpressibleByArgument {}

/// Where `cp --archive` writes: standard output ("-"), or a file that appears under its name
/// only once the archive is whole (written as `.rpfs-PID-archive.tmp` beside it, then renamed),
/// so a failed archive never leaves a file that looks complete.
final class ArchiveFile: ArchiveSink {
    private let descriptor: FileDescriptor
    private let published: (directory: DirectoryHandle, temporary: [UInt8], name: [UInt8])?
    /// Bytes of archive written so far.
    private var length: UInt64 = 0

    init(_ output: String) throws {
        guard output != "-" else {
            descriptor = try FileDescriptor(duplicating: STDOUT_FILENO, path: "standard output")
            published = nil
            return
        }
        let trimmed = output.hasSuffix("/") ? String(output.dropLast()) : output
        guard let name = trimmed.split(separator: "/").last.map({ Array($0.utf8) }), name != Array(".".utf8), name != Array("..".utf8) else {
            throw ValidationError("--output needs a file name, got '\(output)'")
        }
        let directory = try DirectoryHandle.open(Files.parent(of: trimmed))
        let temporary = Array(".rpfs-\(getpid())-archive.tmp".utf8)
        descriptor = try directory.createFile(temporary)
        published = (directory, temporary, name)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) {
        do {
            try descriptor.write(bytes)
        } catch {
            throw .output(error.description)
        }
        length += UInt64(bytes.count)
    }

    /// In the file rpfs created, zeros are a hole; standard output gets them written.
    func writeZeros(_ count: UInt64) throws(ArchiveError) {
        guard published != nil else { return try writeZeroBytes(count) }
        do {
            try descriptor.skip(count)
        } catch {
            throw .output(error.description)
        }
        length += count
    }

    /// Gives the finished archive its name (replacing a file there only with `replace`) and
    /// the mode a new file gets.
    func publish(replace: Bool) throws {
        guard let published else { return }
        // An archive that ended in a hole gets its length.
        try descriptor.truncate(to: length)
        let mask = umask(0)
        umask(mask)
        try descriptor.setMode(0o666 & ~mask)
        try published.directory.rename(published.temporary, to: published.name, replace: replace)
    }

    /// Removes an unfinished archive.
    func discard() {
        guard let published else { return }
        try? published.directory.remove(published.temporary)
    }
}
