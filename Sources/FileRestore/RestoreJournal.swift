import ByteParsing
import Foundation
import POSIXFiles
import VolumeModel

/// The record of a restore in progress, kept in its destination directory so that
/// `--resume` can tell what an interrupted run finished. One JSON object per line, each
/// appended with a single write: a killed run loses at most the line it was writing.
///
///     {"begin":"<hex path of a temporary file about to be created>"}
///     {"done":"<hex destination>","size":N,"sha256":"<hex>","node":N}
///
/// Paths are hex because names from a backup need not be UTF-8. The journal is removed when
/// a run restores everything it was asked to.
final class RestoreJournal {
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
    /// Lines larger than this are not ours.
    private static let maxLine = 4096

    static func fileName(point: String) -> [UInt8] { Array(".rpfs-restore-\(point).journal".utf8) }

    /// Opens the journal for `point` in `root`. With `resume`, reads what earlier runs
    /// finished and removes the temporary files they left; without, starts afresh.
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
        var bytes = [UInt8](repeating: 0, count: Int(size))
        _ = try? bytes.withUnsafeMutableBytes { (buffer) throws(SystemError) in try reader.read(at: 0, into: buffer) }
        var begun: [String] = []
        var finishedTemporaries: Set<String> = []
        for line in bytes.split(separator: UInt8(ascii: "\n")) where line.count <= Self.maxLine {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else { continue }
            if let temporary = object["begin"] as? String {
                begun.append(temporary)
            } else if let destination = object["done"] as? String, let size = object["size"] as? UInt64 {
                let digest = (object["sha256"] as? String).flatMap(Hex.decode)
                completed[destination] = Completed(size: size, sha256: digest, node: object["node"] as? UInt64 ?? 0)
                if let temporary = object["tmp"] as? String { finishedTemporaries.insert(temporary) }
            }
        }
        for temporary in begun where !finishedTemporaries.contains(temporary) { removeLeftover(temporary) }
    }

    private func openForReading() throws(RestoreError) -> FileDescriptor {
        do {
            return try root.openFile(name)
        } catch {
            throw .destination(error)
        }
    }

    /// Removes a temporary file an interrupted run left, walking to it without following symlinks.
    private func removeLeftover(_ hexPath: String) {
        guard let names = Self.names(hexPath), let leaf = names.last else { return }
        var directory = root
        for name in names.dropLast() {
            guard let next = try? directory.openDirectory(name.bytes) else { return }
            directory = next
        }
        try? directory.remove(leaf.bytes)
    }

    static func hexPath(_ names: [FileName]) -> String {
        Hex.encode(Array(names.map(\.bytes).joined(separator: [UInt8(ascii: "/")])))
    }

    private static func names(_ hexPath: String) -> [FileName]? {
        guard let bytes = Hex.decode(hexPath) else { return nil }
        var names: [FileName] = []
        for part in bytes.split(separator: UInt8(ascii: "/")) {
            guard let name = try? FileName(validating: Array(part)) else { return nil }
            names.append(name)
        }
        return names
    }

    func begin(temporary: [FileName]) throws(RestoreError) {
        try append(["begin": Self.hexPath(temporary)])
    }

    func done(_ destination: [FileName], temporary: [FileName]?, size: UInt64, sha256: [UInt8]?, node: UInt64) throws(RestoreError) {
        var record: [String: Any] = ["done": Self.hexPath(destination), "size": size, "node": node]
        if let sha256 { record["sha256"] = Hex.encode(sha256) }
        if let temporary { record["tmp"] = Self.hexPath(temporary) }
        try append(record)
    }

    private func append(_ record: [String: Any]) throws(RestoreError) {
        // Only strings and integers: serialising cannot fail.
        let line = ((try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])) ?? Data()) + Data("\n".utf8)
        do {
            try file.append(Array(line))
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
