#if canImport(Glibc)
import Glibc
#endif
import ByteParsing
import FoundationEssentials
import POSIXFiles
import VolumeModel

/// The record of a restore in progress, kept in its destination directory so that
/// `--resume` can tell what an interrupted run finished. One JSON object per line, each
/// appended with a single write: a killed run loses at most the line it was writing.
///
///     {"run":PID}
///     {"done":"<hex destination>","size":N,"node":N,"sha256":"<hex>"}
///
/// Paths are hex because names from a backup need not be UTF-8. The run's process id names
/// its temporary files (`NodeWriter`), so a resumed run can remove those a killed one left.
/// The journal is removed when a run restores everything it was asked to.
final class RestoreJournal: @unchecked Sendable {
    // @unchecked: after init, writers only append (one write(2) each on an O_APPEND file,
    // which the kernel keeps whole) and read state that no longer changes.
    struct Completed {
        let size: UInt64
        let sha256: [UInt8]?
        /// The file's inode number in the point (for hard links across runs).
        let node: UInt64
    }

    private let root: DirectoryHandle
    private let name: [UInt8]
    private let file: FileDescriptor
    /// Destinations finished by earlier runs, by their hex path.
    private(set) var completed: [String: Completed] = [:]
    /// Process ids of earlier runs, whose temporary files are leftovers.
    private(set) var earlierRuns: Set<Int32> = []
    /// Lines larger than this are not ours.
    private static let maxLine = 4096

    static func fileName(point: String) -> [UInt8] { Array(".rpfs-restore-\(point).journal".utf8) }

    /// Opens the journal for `point` in `root`. With `resume`, reads what earlier runs
    /// finished and which processes they were; without, starts afresh.
    init(root: DirectoryHandle, point: String, resume: Bool) throws(RestoreError) {
        self.root = root
        name = Self.fileName(point: point)
        do {
            if !resume, try root.status(name) != nil { try root.remove(name) }
            file = try root.appendFile(name)
        } catch {
            throw .destination(error)
        }
        if resume { try load() }
        try append("{\"run\":\(getpid())}\n")
    }

    private func load() throws(RestoreError) {
        let size: UInt64
        do {
            size = try file.size()
        } catch {
            throw .destination(error)
        }
        guard size <= 1 << 30 else { throw .usage("\(file.path) is larger than any journal rpfs writes: remove it, or restore without --resume") }
        let reader = try openForReading()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(size), alignment: 1)
        defer { buffer.deallocate() }
        let count: Int
        do {
            count = try reader.read(at: 0, into: buffer)
        } catch {
            throw .destination(error)
        }
        let bytes = Array(buffer.prefix(count))
        let decoder = JSONDecoder()
        for line in bytes.split(separator: UInt8(ascii: "\n")) where line.count <= Self.maxLine {
            guard let entry = try? decoder.decode(Line.self, from: Data(line)) else { continue }
            if let run = entry.run {
                earlierRuns.insert(run)
            } else if let destination = entry.done, let size = entry.size {
                completed[destination] = Completed(size: size, sha256: entry.sha256.flatMap(Hex.decode), node: entry.node ?? 0)
            }
        }
    }

    /// A journal line: `{"run":PID}` or `{"done":...}`; a line that does not decode is skipped.
    private struct Line: Decodable {
        let run: Int32?
        let done: String?
        let size: UInt64?
        let node: UInt64?
        let sha256: String?
    }

    private func openForReading() throws(RestoreError) -> FileDescriptor {
        do {
            return try root.openFile(name)
        } catch {
            throw .destination(error)
        }
    }

    /// Removes from `directory` the temporary files that earlier runs left when killed.
    func removeLeftovers(in directory: DirectoryHandle) {
        guard !earlierRuns.isEmpty, let names = try? directory.names() else { return }
        for name in names where earlierRuns.contains(where: { NodeWriter.isTemporary(name, of: $0) }) {
            try? directory.remove(name)
        }
    }

    static func hexPath(_ names: [FileName]) -> String {
        Hex.encode(Array(names.map(\.bytes).joined(separator: [UInt8(ascii: "/")])))
    }

    func done(_ destination: [FileName], size: UInt64, sha256: [UInt8]?, node: UInt64) throws(RestoreError) {
        // Written by hand: only hex strings and integers, and a restore writes one per file,
        // where a general JSON encoder would cost a large share of restoring small files.
        var line = "{\"done\":\"\(Self.hexPath(destination))\",\"size\":\(size),\"node\":\(node)"
        if let sha256 { line += ",\"sha256\":\"\(Hex.encode(sha256))\"" }
        try append(line + "}\n")
    }

    private func append(_ line: String) throws(RestoreError) {
        do {
            try file.append(Array(line.utf8))
        } catch {
            throw .destination(error)
        }
    }

    /// Removes the journal: called once a run has restored everything it was asked to.
    func remove() throws(RestoreError) {
        do {
            try root.remove(name)
        } catch {
            throw .destination(error)
        }
    }
}
