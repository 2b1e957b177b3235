#if canImport(Glibc)
import Glibc
#endif
import ByteParsing
import Cryptography
import Foundation
import PointNamespace
import POSIXFiles
import VolumeModel

public struct RestoreOptions: Sendable {
    public var conflict = ConflictPolicy.skip
    /// Continue an interrupted run: what its journal says is finished, and still is, stays.
    public var resume = false
    /// Read every restored file back from the destination's disk and compare digests.
    public var verify = false
    /// Select and report, write nothing.
    public var dryRun = false
    /// Give files their numeric owner from the backup; only root may, so only root does by default.
    public var preserveOwner = geteuid() == 0

    public init() {}
}

/// Progress of a restore: files and bytes done of the totals.
public struct RestoreProgress: Sendable {
    public var files = 0
    public var totalFiles = 0
    public var bytes: UInt64 = 0
    public var totalBytes: UInt64 = 0
}

/// `rpfs restore`: everything a plan selects, written below one destination directory with
/// its metadata, each file proven by its SHA-256 in the report. Failures are per file: the
/// run goes on and the report says what failed and why. Writing is `NodeWriter`'s, so a
/// name from the backup or the plan can never leave the destination.
public final class Restore {
    private let namespace: PointNamespace
    private let plan: RestorePlan
    private let destinationPath: String
    private let options: RestoreOptions
    private let onProgress: ((RestoreProgress) -> Void)?
    private let writer: NodeWriter
    private var progress = RestoreProgress()
    private var report: RestoreReport
    private let started = Date()

    public init(namespace: PointNamespace, plan: RestorePlan, to destination: String, options: RestoreOptions,
                progress: ((RestoreProgress) -> Void)? = nil) {
        self.namespace = namespace
        self.plan = plan
        destinationPath = destination
        self.options = options
        onProgress = progress
        writer = NodeWriter(namespace: namespace, preserveOwner: options.preserveOwner)
        let stamp = ISO8601DateFormatter()
        stamp.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        report = RestoreReport(point: namespace.point.header.id.description, destination: destination, dryRun: options.dryRun,
                               started: stamp.string(from: started))
    }

    public func run() throws(RestoreError) -> RestoreReport {
        let selection = RestoreSelection(plan: plan, namespace: namespace)
        report.unmatched = selection.unmatched
        for (path, reason) in selection.failures {
            report.add(.init(path: path, destination: "", kind: "unknown", size: 0, status: .failed, reason: reason))
        }
        let files = selection.items.filter { $0.attributes.kind != .directory }
        progress.totalFiles = files.count
        progress.totalBytes = files.reduce(0) { $0 + ($1.attributes.kind == .regular ? $1.attributes.size : 0) }
        if options.dryRun {
            for item in files { report.add(record(item, status: .planned)) }
            report.totals.bytes = progress.totalBytes
        } else {
            try write(selection)
        }
        report.notes = writer.notes
        report.totals.elapsedSeconds = Date().timeIntervalSince(started)
        report.totals.bytesPerSecond = report.totals.elapsedSeconds > 0 ? Double(report.totals.bytes) / report.totals.elapsedSeconds : 0
        return report
    }

    // MARK: Writing

    /// An open destination directory and the point directory it stands for, if any.
    private struct OpenDirectory {
        let names: [FileName]
        let handle: DirectoryHandle
        let source: RestoreSelection.DirectorySource?
        /// Made by this run (an existing directory without a source keeps its own mode).
        var created = false
    }

    private func write(_ selection: RestoreSelection) throws(RestoreError) {
        let root: DirectoryHandle
        do {
            try Files.makeDirectory(destinationPath)
            root = try DirectoryHandle.open(destinationPath)
        } catch {
            throw .destination(error)
        }
        let journal = try RestoreJournal(root: root, point: report.point, resume: options.resume)
        var links = try linksFromEarlierRuns(selection, journal)
        // The directories from the root down to the one being filled; each takes its
        // metadata when left, after everything below it is written.
        var stack = [OpenDirectory(names: [], handle: root, source: nil)]
        writer.progress = { [unowned self] bytes in
            progress.bytes = bytes
            onProgress?(progress)
        }

        for item in selection.items {
            let parent = Array(item.destination.dropLast())
            while !parent.starts(with: stack.last!.names) { leave(&stack) }
            if item.attributes.kind == .directory {
                if let failure = enter(item.destination, &stack, selection) {
                    report.add(record(item, status: .failed, reason: failure))
                }
                continue
            }
            if let failure = enter(parent, &stack, selection) {
                report.add(record(item, status: .failed, reason: failure))
                continue
            }
            let directory = stack.last!
            writer.willCreate = { (temporary) throws(RestoreError) in
                try journal.begin(temporary: directory.names + [try Self.name(temporary)])
            }
            report.add(restore(item, into: directory, root: root, journal: journal, links: &links))
            progress.files += 1
            onProgress?(progress)
        }
        while stack.count > 1 { leave(&stack) }
        if report.isComplete { try journal.remove() }
    }

    /// Opens (making them as needed) the directories down to `names`, pushing each.
    private func enter(_ names: [FileName], _ stack: inout [OpenDirectory], _ selection: RestoreSelection) -> String? {
        while stack.last!.names.count < names.count {
            let top = stack.last!
            let next = names[top.names.count]
            do {
                // Merging into what exists is how a restore fills an existing tree; a symlink
                // there (planted, or restored by this run) fails to open: it is never followed.
                let (handle, created) = try writer.directory(next.bytes, in: top.handle, conflict: .overwrite)
                let path = top.names + [next]
                stack.append(OpenDirectory(names: path, handle: handle, source: selection.directories[path], created: created))
            } catch {
                return "cannot make directory \(Self.text(top.names + [next])): \(error)"
            }
        }
        return nil
    }

    /// Leaves the innermost directory, giving it the metadata of the point directory it
    /// stands for: last, because writing its entries changed its times.
    private func leave(_ stack: inout [OpenDirectory]) {
        let directory = stack.removeLast()
        report.totals.directories += 1
        let name = directory.names.last!.bytes
        do {
            if let source = directory.source, case .file = source.node {
                let attributes = try sourceAttributes(source.node, source.pointPath)
                try writer.applyMetadata(attributes, node: source.node, path: source.pointPath, name: name, in: stack.last!.handle)
            } else if directory.created {
                try writer.finishPlainDirectory(name, in: stack.last!.handle)
            }
        } catch {
            writer.notes.append("\(Self.text(directory.names)): directory metadata not restored: \(error)")
        }
    }

    private func restore(_ item: RestoreSelection.Item, into directory: OpenDirectory, root: DirectoryHandle,
                         journal: RestoreJournal, links: inout [UInt64: (path: [FileName], sha256: [UInt8]?)]) -> RestoreReport.Record {
        let name = item.destination.last!
        let key = RestoreJournal.hexPath(item.destination)
        if let finished = journal.completed[key], isStillThere(item, finished, in: directory.handle) {
            return record(item, status: .skipped, reason: "already restored (resume)", sha256: finished.sha256)
        }
        let multiplyLinked = item.attributes.linkCount > 1 && item.attributes.kind != .directory
        let first = multiplyLinked ? links[item.attributes.node] : nil
        // A file the journal says this restore wrote is ours to replace: it no longer matches.
        let conflict = journal.completed[key] != nil ? .overwrite : options.conflict
        do {
            let linkTo = first.map { (root: root, relative: Array($0.path.map(\.bytes).joined(separator: [UInt8(ascii: "/")]))) }
            guard let written = try writer.write(item.node, item.attributes, path: item.pointPath, into: directory.handle,
                                                 as: name.bytes, conflict: conflict, hashing: item.attributes.kind == .regular,
                                                 linkTo: linkTo)
            else {
                return record(item, status: .skipped, reason: "exists at the destination (--on-conflict skip)")
            }
            let destination = Array(item.destination.dropLast()) + [try Self.name(written.name)]
            let sha256 = written.digest ?? first?.sha256
            if multiplyLinked, first == nil { links[item.attributes.node] = (destination, sha256) }
            report.totals.bytes += written.bytes
            try journal.done(destination, temporary: directory.names + [try Self.name(written.temporary)],
                             size: item.attributes.size, sha256: sha256, node: item.attributes.node)
            var result = record(item, status: .restored, sha256: sha256)
            result.destination = Self.text(destination)
            if first != nil { result.reason = "hard link to \(Self.text(first!.path))" }
            if options.verify, item.attributes.kind == .regular {
                let matches = try readBack(written.name, in: directory.handle) == sha256
                result.verified = matches
                if !matches {
                    result.status = .failed
                    result.reason = "verification failed: the bytes read back from the destination differ from those written"
                }
            }
            return result
        } catch .unsupported(let reason) {
            return record(item, status: .skipped, reason: reason)
        } catch {
            return record(item, status: .failed, reason: error.description)
        }
    }

    /// Hard links whose first name an earlier run restored: later names link to it.
    private func linksFromEarlierRuns(_ selection: RestoreSelection, _ journal: RestoreJournal) throws(RestoreError) -> [UInt64: (path: [FileName], sha256: [UInt8]?)] {
        var links: [UInt64: (path: [FileName], sha256: [UInt8]?)] = [:]
        for item in selection.items where item.attributes.linkCount > 1 && item.attributes.kind != .directory {
            if let finished = journal.completed[RestoreJournal.hexPath(item.destination)], links[item.attributes.node] == nil {
                links[item.attributes.node] = (item.destination, finished.sha256)
            }
        }
        return links
    }

    /// Whether what an earlier run finished is still there, whole: same size and digest.
    private func isStillThere(_ item: RestoreSelection.Item, _ finished: RestoreJournal.Completed, in directory: DirectoryHandle) -> Bool {
        let name = item.destination.last!.bytes
        guard let info = try? directory.status(name) else { return false }
        guard item.attributes.kind == .regular else { return true }
        guard (info.st_mode & S_IFMT) == S_IFREG, UInt64(info.st_size) == finished.size, finished.sha256 != nil else { return false }
        return (try? digest(name, in: directory, evict: false)) == finished.sha256
    }

    /// The SHA-256 of the file as the destination's disk holds it (written out and evicted
    /// from the page cache first, so the bytes come from the device).
    private func readBack(_ name: [UInt8], in directory: DirectoryHandle) throws(RestoreError) -> [UInt8] {
        try digest(name, in: directory, evict: true)
    }

    private func digest(_ name: [UInt8], in directory: DirectoryHandle, evict: Bool) throws(RestoreError) -> [UInt8] {
        do {
            let file = try directory.openFile(name)
            if evict { try file.syncAndEvict() }
            let hasher = try SHA256Hasher()
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
            defer { buffer.deallocate() }
            var offset: UInt64 = 0
            while true {
                let count = try file.read(at: offset, into: buffer)
                if count == 0 { break }
                hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0 ..< count]))
                offset += UInt64(count)
            }
            return hasher.finish()
        } catch let error as SystemError {
            throw .destination(error)
        } catch {
            throw .unsupported("SHA-256 unavailable: \(error)")
        }
    }

    // MARK: Records

    private func record(_ item: RestoreSelection.Item, status: RestoreReport.Status, reason: String? = nil, sha256: [UInt8]? = nil) -> RestoreReport.Record {
        RestoreReport.Record(path: item.pointPath, destination: Self.text(item.destination), kind: item.attributes.kind.rawValue,
                             size: item.attributes.size, sha256: sha256.map { Hex.encode($0) }, status: status, reason: reason)
    }

    private func sourceAttributes(_ node: PointNamespace.Node, _ path: String) throws(RestoreError) -> NodeAttributes {
        do {
            return try namespace.attributes(node, path: path)
        } catch {
            throw .source(error)
        }
    }

    private static func text(_ names: [FileName]) -> String { names.map(\.description).joined(separator: "/") }

    private static func name(_ bytes: [UInt8]) throws(RestoreError) -> FileName {
        do {
            return try FileName(validating: bytes)
        } catch {
            throw .usage("invalid name \(error)")
        }
    }
}
