#if canImport(Glibc)
import Glibc
#endif
import ByteParsing
import CLinux
import Cryptography
import FoundationEssentials
import POSIXFiles
import PointNamespace
import Pools
import Synchronization
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
///
/// Items are written in destination order, so everything below a directory comes together:
/// directories are made and left (given their metadata) by one thread, while the files of
/// the directory being filled are written by one `NodeWriter` per core. Hard links are
/// written by that one thread too, after their first name.
public final class Restore: @unchecked Sendable {
    // @unchecked: the writers run in parallel only inside `writeBatch`, where each touches its
    // own NodeWriter and distinct items, and shared counters sit behind `shared`.
    private let namespace: PointNamespace
    private let plan: RestorePlan
    private let destinationPath: String
    private let options: RestoreOptions
    private let onProgress: (@Sendable (RestoreProgress) -> Void)?
    private let writers: [NodeWriter]
    private let shared = Mutex(Shared())
    private var report: RestoreReport
    private let started = Date()

    /// What the writers update side by side.
    private struct Shared {
        var progress = RestoreProgress()
        /// Bytes each writer has reported so far.
        var written: [UInt64] = []
        var records: [Int: RestoreReport.Record] = [:]
        var bytes: UInt64 = 0
    }

    public init(namespace: PointNamespace, plan: RestorePlan, to destination: String, options: RestoreOptions,
                progress: (@Sendable (RestoreProgress) -> Void)? = nil) {
        self.namespace = namespace
        self.plan = plan
        destinationPath = destination
        self.options = options
        onProgress = progress
        let count = min(8, ParallelWork.defaultWorkers)
        writers = (0 ..< count).map { NodeWriter(namespace: namespace, preserveOwner: options.preserveOwner, writerID: $0) }
        report = RestoreReport(point: namespace.pointID, destination: destination, dryRun: options.dryRun,
                               started: Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(started))
    }

    public func run() throws(RestoreError) -> RestoreReport {
        let selection = RestoreSelection(plan: plan, namespace: namespace)
        report.unmatched = selection.unmatched
        for (path, reason) in selection.failures {
            report.add(.init(path: path, destination: "", kind: "unknown", size: 0, status: .failed, reason: reason))
        }
        let files = selection.items.filter { $0.attributes.kind != .directory }
        let totalBytes = files.reduce(0) { $0 + ($1.attributes.kind == .regular ? $1.attributes.size : 0) }
        shared.withLock {
            $0.progress.totalFiles = files.count
            $0.progress.totalBytes = totalBytes
            $0.written = Array(repeating: 0, count: writers.count)
        }
        if options.dryRun {
            for item in files { report.add(record(item, status: .planned)) }
            report.totals.bytes = totalBytes
        } else {
            try write(selection)
        }
        report.notes = selection.notes + writers.flatMap(\.notes)
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

    /// The directories from the destination's root down to the one being filled.
    private struct DirectoryStack {
        let root: OpenDirectory
        private var below: [OpenDirectory] = []

        init(root: OpenDirectory) {
            self.root = root
        }

        var top: OpenDirectory { below.last ?? root }

        mutating func push(_ directory: OpenDirectory) { below.append(directory) }

        /// Removes the innermost directory below the root, with its parent, now on top.
        mutating func pop() -> (directory: OpenDirectory, parent: OpenDirectory)? {
            guard let directory = below.popLast() else { return nil }
            return (directory, top)
        }
    }

    /// What writing one item came to.
    private struct Outcome {
        var record: RestoreReport.Record
        /// Where it was written, when it was.
        var written: [FileName]?
        var digest: [UInt8]?
        /// What it adds to the report's byte total: a regular file's size, hard links once.
        var bytes: UInt64 = 0
    }

    /// The first restored name of each multiply-linked file, by its node number in the point.
    private typealias Links = [UInt64: (path: [FileName], sha256: [UInt8]?)]

    private func write(_ selection: RestoreSelection) throws(RestoreError) {
        let root: DirectoryHandle
        do {
            try Files.makeDirectory(destinationPath)
            root = try DirectoryHandle.open(destinationPath)
        } catch {
            throw .destination(error)
        }
        let journal = try RestoreJournal(root: root, point: report.point, resume: options.resume)
        journal.removeLeftovers(in: root)
        var links = linksFromEarlierRuns(selection, journal)
        for (index, writer) in writers.enumerated() {
            writer.progress = { [unowned self] bytes in reportProgress(writer: index, bytes: bytes) }
        }
        // Each directory takes its metadata when left, after everything below it is written.
        var stack = DirectoryStack(root: OpenDirectory(names: [], handle: root, source: nil))
        // Files of the directory on top of the stack, waiting to be written side by side.
        var batch: [Int] = []
        let items = selection.items
        var prefetch = RestorePrefetch(namespace: namespace)

        for (index, item) in items.enumerated() {
            prefetch.advance(to: index, of: items)
            let parent = Array(item.destination.dropLast())
            let multiplyLinked = item.attributes.linkCount > 1 && item.attributes.kind != .directory
            if parent != stack.top.names || item.attributes.kind == .directory || multiplyLinked {
                writeBatch(&batch, items, into: stack.top, journal: journal)
            }
            while !parent.starts(with: stack.top.names) { leave(&stack) }
            if item.attributes.kind == .directory {
                if let failure = enter(item.destination, &stack, selection, journal) {
                    store(Outcome(record: record(item, status: .failed, reason: failure)), at: index)
                }
                continue
            }
            if let failure = enter(parent, &stack, selection, journal) {
                store(Outcome(record: record(item, status: .failed, reason: failure)), at: index)
                continue
            }
            guard multiplyLinked else {
                batch.append(index)
                continue
            }
            let first = links[item.attributes.node]
            let outcome = restore(item, into: stack.top, with: writers[0], journal: journal, linkTo: first.map { (root, $0.path, $0.sha256) })
            if first == nil, let written = outcome.written { links[item.attributes.node] = (written, outcome.digest) }
            store(outcome, at: index)
        }
        writeBatch(&batch, items, into: stack.top, journal: journal)
        while let (directory, parent) = stack.pop() { leave(directory, in: parent) }
        let (records, bytes) = shared.withLock { ($0.records, $0.bytes) }
        for (_, record) in records.sorted(by: { $0.key < $1.key }) { report.add(record) }
        report.totals.bytes = bytes
        if report.isComplete { try journal.remove() }
    }

    /// Writes the waiting files of one directory, one writer per core, and empties the batch.
    private func writeBatch(_ batch: inout [Int], _ items: [RestoreSelection.Item], into directory: OpenDirectory, journal: RestoreJournal) {
        guard !batch.isEmpty else { return }
        let indices = batch
        batch.removeAll(keepingCapacity: true)
        ParallelWork.forEach(count: indices.count, workers: writers.count) { (position, worker) throws(Never) in
            let index = indices[position]
            store(restore(items[index], into: directory, with: writers[worker], journal: journal, linkTo: nil), at: index)
        }
    }

    private func store(_ outcome: Outcome, at index: Int) {
        let progress = shared.withLock { state in
            state.records[index] = outcome.record
            state.bytes += outcome.bytes
            state.progress.files += 1
            return state.progress
        }
        onProgress?(progress)
    }

    private func reportProgress(writer: Int, bytes: UInt64) {
        let progress = shared.withLock { state in
            state.progress.bytes += bytes - state.written[writer]
            state.written[writer] = bytes
            return state.progress
        }
        onProgress?(progress)
    }

    /// Opens (making them as needed) the directories down to `names`, pushing each. On a
    /// resumed run, removes from each the temporary files a killed run left.
    private func enter(_ names: [FileName], _ stack: inout DirectoryStack, _ selection: RestoreSelection,
                       _ journal: RestoreJournal) -> String? {
        while stack.top.names.count < names.count {
            let top = stack.top
            let next = names[top.names.count]
            do {
                // Merging into what exists is how a restore fills an existing tree; a symlink
                // there (planted, or restored by this run) fails to open: it is never followed.
                let (handle, created) = try writers[0].directory(next.bytes, in: top.handle, conflict: .overwrite)
                let path = top.names + [next]
                if !created { journal.removeLeftovers(in: handle) }
                stack.push(OpenDirectory(names: path, handle: handle, source: selection.directories[path], created: created))
            } catch {
                return "cannot make directory \(Self.text(top.names + [next])): \(error)"
            }
        }
        return nil
    }

    /// Leaves the innermost directory, giving it the metadata of the point directory it
    /// stands for: last, because writing its entries changed its times.
    private func leave(_ stack: inout DirectoryStack) {
        guard let (directory, parent) = stack.pop() else { return }
        leave(directory, in: parent)
    }

    private func leave(_ directory: OpenDirectory, in parent: OpenDirectory) {
        report.totals.directories += 1
        guard let name = directory.names.last?.bytes else { return }
        let writer = writers[0]
        do {
            if let source = directory.source, case .file = source.node {
                let attributes = try sourceAttributes(source.node, source.pointPath)
                try writer.applyMetadata(attributes, node: source.node, path: source.pointPath, to: .entry(name, in: parent.handle))
            } else if directory.created {
                try writer.finishPlainDirectory(name, in: parent.handle)
            }
        } catch {
            writer.notes.append("\(Self.text(directory.names)): directory metadata not restored: \(error)")
        }
    }

    /// Writes one item with `writer`; with `linkTo` (the first restored name of the same
    /// inode, and its digest) as a hard link.
    private func restore(_ item: RestoreSelection.Item, into directory: OpenDirectory, with writer: NodeWriter, journal: RestoreJournal,
                         linkTo first: (root: DirectoryHandle, path: [FileName], sha256: [UInt8]?)?) -> Outcome {
        let finished = journal.completed.isEmpty ? nil : journal.completed[RestoreJournal.hexPath(item.destination)]
        if let finished, isStillThere(item, finished, in: directory.handle) {
            return Outcome(record: record(item, status: .skipped, reason: "already restored (resume)", sha256: finished.sha256))
        }
        // A file the journal says this restore wrote is ours to replace: it no longer matches.
        let conflict = finished != nil ? .overwrite : options.conflict
        do {
            let linkTo = first.map { (root: $0.root, relative: Array($0.path.map(\.bytes).joined(separator: [UInt8(ascii: "/")]))) }
            // Journaled before the file takes its name: a run killed in between leaves a record
            // whose file is missing (redone on resume), never a file the journal does not know.
            // Only --on-conflict rename learns the name afterwards, and journals it then.
            let journalBeforePublishing = conflict != .rename
            let writeOptions = NodeWriter.WriteOptions(conflict: conflict, hashing: item.attributes.kind == .regular, linkTo: linkTo,
                                                       mayExist: !directory.created)
            guard let written = try writer.write(item.node, item.attributes, path: item.pointPath, into: directory.handle,
                                                 as: item.name.bytes, options: writeOptions, willPublish: { (written) throws(RestoreError) in
                                                     if journalBeforePublishing {
                                                         try journal.done(item.destination, size: item.attributes.size,
                                                                          sha256: written.digest ?? first?.sha256, node: item.attributes.node)
                                                     }
                                                 })
            else {
                return Outcome(record: record(item, status: .skipped, reason: "exists at the destination (--on-conflict skip)"))
            }
            let destination = Array(item.destination.dropLast()) + [try Self.name(written.name)]
            let sha256 = written.digest ?? first?.sha256
            if !journalBeforePublishing {
                try journal.done(destination, size: item.attributes.size, sha256: sha256, node: item.attributes.node)
            }
            var result = record(item, status: .restored, sha256: sha256)
            result.destination = Self.text(destination)
            if let first { result.reason = "hard link to \(Self.text(first.path))" }
            if options.verify, item.attributes.kind == .regular {
                let matches = try readBack(written.name, in: directory.handle) == sha256
                result.verified = matches
                if !matches {
                    result.status = .failed
                    result.reason = "verification failed: the bytes read back from the destination differ from those written"
                }
            }
            let counted = result.status == .restored && item.attributes.kind == .regular && first == nil ? item.attributes.size : 0
            return Outcome(record: result, written: destination, digest: sha256, bytes: counted)
        } catch .unsupported(let reason) {
            return Outcome(record: record(item, status: .skipped, reason: reason))
        } catch {
            return Outcome(record: record(item, status: .failed, reason: error.description))
        }
    }

    /// Hard links whose first name an earlier run restored: later names link to it.
    private func linksFromEarlierRuns(_ selection: RestoreSelection, _ journal: RestoreJournal) -> Links {
        var links: Links = [:]
        guard !journal.completed.isEmpty else { return links }
        for item in selection.items where item.attributes.linkCount > 1 && item.attributes.kind != .directory {
            if let finished = journal.completed[RestoreJournal.hexPath(item.destination)], links[item.attributes.node] == nil {
                links[item.attributes.node] = (item.destination, finished.sha256)
            }
        }
        return links
    }

    /// Whether what an earlier run finished is still there, whole: same size and digest.
    private func isStillThere(_ item: RestoreSelection.Item, _ finished: RestoreJournal.Completed, in directory: DirectoryHandle) -> Bool {
        let name = item.name.bytes
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
        // A descriptor that cannot be read fails the file's restore (its xattrs); the record
        // then simply has none.
        let descriptor = try? namespace.securityDescriptor(item.node, path: item.pointPath)
        return RestoreReport.Record(path: item.pointPath, destination: Self.text(item.destination), kind: item.attributes.kind.rawValue,
                                    size: item.attributes.size, sha256: sha256.map { Hex.encode($0) }, status: status, reason: reason,
                                    ownerSid: descriptor?.ownerSID, sddl: descriptor.map(SDDL.render))
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
