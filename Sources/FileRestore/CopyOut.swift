#if canImport(Glibc)
import Glibc
#endif
import POSIXFiles
import PointNamespace
import VolumeModel

public struct CopyOptions: Sendable {
    /// Replace what exists at the destination.
    public var force = false
    /// Copy directories and everything below them.
    public var recursive = false
    /// Give files their numeric owner from the backup; only root may, so only root does by default.
    public var preserveOwner = geteuid() == 0
    /// Stop at the first file or directory the point cannot give (damaged, unreadable),
    /// instead of naming it and copying everything else.
    public var failFast = false

    public init() {}
}

/// What a copy did.
public struct CopyReport: Sendable {
    public var files = 0
    public var directories = 0
    public var symlinks = 0
    public var hardLinks = 0
    public var specialFiles = 0
    public var bytes: UInt64 = 0
    /// Things not copied exactly, one sentence each (xattrs the destination refused, sockets).
    public var notes: [String] = []
    /// What the point could not give, below the copy's root, in the order met: each left
    /// out (a directory with everything below it), the rest copied.
    public var failures: [RestoreError] = []
}

/// Copies files out of a point with their metadata: contents (holes stay holes), mode, owner
/// (as root), times with nanoseconds, symlinks as symlinks, hard links as hard links within
/// the copy, FIFOs and (as root) device nodes, extended attributes and ACLs. How each node
/// is written, and why no name can leave the destination, is `NodeWriter`'s.
public final class CopyOut {
    public typealias Progress = (_ done: UInt64, _ total: UInt64) -> Void
    /// Told of each item left out because the point could not give it, as it is met.
    public typealias FailureHandler = (RestoreError) -> Void

    private let namespace: PointNamespace
    private let options: CopyOptions
    private let progress: Progress?
    private let onFailure: FailureHandler?
    private let writer: NodeWriter
    private var report = CopyReport()
    private var total: UInt64 = 0
    /// Node number of a multiply-linked file → its first copy, relative to `root`.
    private var copied: [UInt64: [UInt8]] = [:]

    public init(namespace: PointNamespace, options: CopyOptions, progress: Progress? = nil, onFailure: FailureHandler? = nil) {
        self.namespace = namespace
        self.options = options
        self.progress = progress
        self.onFailure = onFailure
        writer = NodeWriter(namespace: namespace, preserveOwner: options.preserveOwner)
    }

    private var conflict: ConflictPolicy { options.force ? .overwrite : .fail }

    /// Copies `source` (an absolute path in the point) to `destination`: into it when it is an
    /// existing directory, else as that name.
    public func copy(from source: String, to destination: String) throws(RestoreError) -> CopyReport {
        let node = try sourceNode(source)
        let attributes = try sourceAttributes(node, source)
        guard attributes.kind != .directory || options.recursive else {
            throw .usage("\(source) is a directory: use -R to copy it and everything below it")
        }
        let (parentPath, name) = try target(for: source, destination: destination)
        let parent: DirectoryHandle
        do {
            parent = try DirectoryHandle.open(parentPath)
        } catch {
            throw .destination(error)
        }
        if let progress {
            total = measure(node, attributes, path: source)
            writer.progress = { [total] done in progress(done, total) }
        }
        try copyNode(node, attributes, from: source, into: parent, as: name, relative: name.bytes, root: parent)
        report.bytes = writer.bytesWritten
        report.notes = writer.notes
        progress?(report.bytes, total)
        return report
    }

    // MARK: Source

    private func sourceNode(_ path: String) throws(RestoreError) -> PointNamespace.Node {
        do {
            return try namespace.resolve(path)
        } catch {
            throw .source(error)
        }
    }

    private func sourceAttributes(_ node: PointNamespace.Node, _ path: String) throws(RestoreError) -> NodeAttributes {
        do {
            return try namespace.attributes(node, path: path)
        } catch {
            throw .source(error)
        }
    }

    private func entries(_ node: PointNamespace.Node, _ path: String) throws(RestoreError) -> [PointNamespace.Entry] {
        do {
            return try namespace.list(node, path: path).sorted { $0.name < $1.name }
        } catch {
            throw .source(error)
        }
    }

    /// Bytes of regular-file data below `node`, for the progress bar (what cannot be read
    /// counts nothing here; the copy meets it and says so).
    private func measure(_ node: PointNamespace.Node, _ attributes: NodeAttributes, path: String) -> UInt64 {
        guard attributes.kind == .directory else { return attributes.kind == .regular ? attributes.size : 0 }
        var sum: UInt64 = 0
        for entry in (try? entries(node, path)) ?? [] {
            let childPath = PointNamespace.join(path, entry.name)
            guard let child = try? sourceAttributes(entry.node, childPath) else { continue }
            sum += measure(entry.node, child, path: childPath)
        }
        return sum
    }

    // MARK: Destination

    private func target(for source: String, destination: String) throws(RestoreError) -> (String, FileName) {
        let sourceName = source.split(separator: "/").last.map(String.init) ?? ""
        var info = stat()
        if stat(destination, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            guard let name = try? FileName(validating: sourceName) else {
                throw .usage("give a path below the point's root to copy (\(source) has no name)")
            }
            return (destination, name)
        }
        let trimmed = destination.hasSuffix("/") ? String(destination.dropLast()) : destination
        guard let name = try? FileName(validating: String(trimmed.split(separator: "/").last ?? "")) else {
            throw .usage("\(destination) is not a usable destination name")
        }
        return (Files.parent(of: trimmed), name)
    }

    private func copyNode(_ node: PointNamespace.Node, _ attributes: NodeAttributes, from path: String,
                          into directory: DirectoryHandle, as fileName: FileName, relative: [UInt8], root: DirectoryHandle) throws(RestoreError) {
        let name = fileName.bytes
        if attributes.kind == .directory {
            let child = try writer.directory(name, in: directory, conflict: conflict).handle
            for entry in try entries(node, path) {
                let childPath = PointNamespace.join(path, entry.name)
                do {
                    try copyNode(entry.node, try sourceAttributes(entry.node, childPath), from: childPath,
                                 into: child, as: entry.name, relative: relative + [UInt8(ascii: "/")] + entry.name.bytes, root: root)
                } catch let .source(error) where !options.failFast {
                    // The point cannot give this item (a damaged chunk, a corrupt structure):
                    // it is named and left out, and everything else is still copied.
                    report.failures.append(.source(error))
                    onFailure?(.source(error))
                }
            }
            // Metadata last: creating the children changed the directory's times.
            try writer.applyMetadata(attributes, node: node, path: path, to: .entry(name, in: directory))
            report.directories += 1
            return
        }
        let first = attributes.linkCount > 1 ? copied[attributes.node] : nil
        do {
            let options = NodeWriter.WriteOptions(conflict: conflict, linkTo: first.map { (root, $0) })
            _ = try writer.write(node, attributes, path: path, into: directory, as: name, options: options)
        } catch .unsupported(let reason) {
            writer.notes.append(reason)
            return
        }
        switch attributes.kind {
        case _ where first != nil: report.hardLinks += 1
        case .regular: report.files += 1
        case .symlink: report.symlinks += 1
        default: report.specialFiles += 1
        }
        if attributes.linkCount > 1, first == nil { copied[attributes.node] = relative }
    }
}
