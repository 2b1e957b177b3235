#if canImport(Glibc)
import Glibc
#endif
import PointNamespace
import POSIXFiles
import VolumeModel

public struct CopyOptions: Sendable {
    /// Replace what exists at the destination.
    public var force = false
    /// Copy directories and everything below them.
    public var recursive = false
    /// Give files their numeric owner from the backup; only root may, so only root does by default.
    public var preserveOwner = geteuid() == 0

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
}

/// Copies files out of a point with their metadata: contents (holes stay holes), mode, owner
/// (as root), times with nanoseconds, symlinks as symlinks, hard links as hard links within
/// the copy, FIFOs and (as root) device nodes, extended attributes and ACLs.
///
/// Every destination operation is relative to a directory descriptor rpfs opened itself, with
/// O_NOFOLLOW and validated single names: no name from the backup can leave the destination,
/// and nothing already in it (a planted symlink) is followed. Each file is written under a
/// temporary name and renamed into place once complete: an interrupted or failed copy never
/// leaves a partial file under its real name.
public final class CopyOut {
    public typealias Progress = (_ done: UInt64, _ total: UInt64) -> Void
    static let bufferSize = 8 << 20

    private let namespace: PointNamespace
    private let options: CopyOptions
    private let progress: Progress?
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 4096)
    private var report = CopyReport()
    private var total: UInt64 = 0
    /// Node number of a multiply-linked file → its first copy, relative to `root`.
    private var copied: [UInt64: [UInt8]] = [:]
    private var temporaryCount = 0

    public init(namespace: PointNamespace, options: CopyOptions, progress: Progress? = nil) {
        self.namespace = namespace
        self.options = options
        self.progress = progress
    }

    deinit { buffer.deallocate() }

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
        if progress != nil { total = try measure(node, attributes, path: source) }
        try copyNode(node, attributes, from: source, into: parent, as: name, relative: name.bytes, root: parent)
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

    private func sourceVolume<T>(_ node: PointNamespace.Node, _ path: String,
                                 _ body: (any Volume, UInt64) throws(VolumeError) -> T) throws(RestoreError) -> T {
        do {
            return try namespace.withVolume(node, path: path, body)
        } catch {
            throw .source(error)
        }
    }

    /// Bytes of regular-file data below `node`, for the progress bar.
    private func measure(_ node: PointNamespace.Node, _ attributes: NodeAttributes, path: String) throws(RestoreError) -> UInt64 {
        guard attributes.kind == .directory else { return attributes.kind == .regular ? attributes.size : 0 }
        var sum: UInt64 = 0
        for entry in try entries(node, path) {
            let childPath = Self.join(path, entry.name)
            sum += try measure(entry.node, try sourceAttributes(entry.node, childPath), path: childPath)
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

    private func destination<T>(_ body: () throws(SystemError) -> T) throws(RestoreError) -> T {
        do {
            return try body()
        } catch {
            throw .destination(error)
        }
    }

    /// A name for a file being written; renamed to its real name once complete.
    private func nextTemporaryName() -> [UInt8] {
        temporaryCount += 1
        return Array(".rpfs-\(getpid())-\(temporaryCount).tmp".utf8)
    }

    /// Publishes a finished temporary file under its real name. Without --force an existing
    /// name is an error (checked by the rename itself, so nothing is replaced in a race).
    private func publish(_ temporary: [UInt8], as name: [UInt8], in directory: DirectoryHandle) throws(RestoreError) {
        do {
            try directory.rename(temporary, to: name, replace: options.force)
        } catch {
            try? directory.remove(temporary)
            if error.errno == EEXIST { throw .exists(error.path) }
            throw .destination(error)
        }
    }

    /// A new directory, or with --force an existing one to merge into.
    private func makeDirectory(_ name: [UInt8], in directory: DirectoryHandle) throws(RestoreError) -> DirectoryHandle {
        do {
            return try directory.makeDirectory(name)
        } catch {
            guard error.errno == EEXIST else { throw .destination(error) }
            guard options.force else { throw .exists(error.path) }
            return try destination { () throws(SystemError) in try directory.openDirectory(name) }
        }
    }

    private func copyNode(_ node: PointNamespace.Node, _ attributes: NodeAttributes, from path: String,
                          into directory: DirectoryHandle, as fileName: FileName, relative: [UInt8], root: DirectoryHandle) throws(RestoreError) {
        let name = fileName.bytes

        if attributes.kind != .directory, attributes.linkCount > 1, let first = copied[attributes.node] {
            let temporary = nextTemporaryName()
            try destination { () throws(SystemError) in try directory.link(temporary, to: first, in: root) }
            try publish(temporary, as: name, in: directory)
            report.hardLinks += 1
            return
        }

        switch attributes.kind {
        case .directory:
            let child = try makeDirectory(name, in: directory)
            for entry in try entries(node, path) {
                let childPath = Self.join(path, entry.name)
                try copyNode(entry.node, try sourceAttributes(entry.node, childPath), from: childPath,
                             into: child, as: entry.name, relative: relative + [UInt8(ascii: "/")] + entry.name.bytes, root: root)
            }
            // Metadata last: creating the children changed the directory's times.
            try applyMetadata(attributes, node: node, path: path, name: name, in: directory)
            report.directories += 1
            return
        case .regular:
            try place(name, in: directory, attributes, node: node, path: path) { (temporary) throws(RestoreError) in
                try writeData(node, attributes, path: path, to: temporary, in: directory)
            }
            report.files += 1
        case .symlink:
            let target = try sourceVolume(node, path) { volume, inner throws(VolumeError) in try volume.symlinkTarget(of: inner) }
            try place(name, in: directory, attributes, node: node, path: path) { (temporary) throws(RestoreError) in
                try destination { () throws(SystemError) in try directory.makeSymlink(temporary, target: target) }
            }
            report.symlinks += 1
        case .fifo, .blockDevice, .characterDevice:
            let type: mode_t = attributes.kind == .fifo ? S_IFIFO : attributes.kind == .blockDevice ? S_IFBLK : S_IFCHR
            guard attributes.kind == .fifo || geteuid() == 0 else {
                report.notes.append("\(path): device node not created (only root can)")
                return
            }
            try place(name, in: directory, attributes, node: node, path: path) { (temporary) throws(RestoreError) in
                try destination { () throws(SystemError) in
                    try directory.makeNode(temporary, mode: type | 0o600, device: dev_t(attributes.device))
                }
            }
            report.specialFiles += 1
        case .socket:
            report.notes.append("\(path): socket not copied (a socket only exists while a program listens on it)")
            return
        }
        if attributes.linkCount > 1 { copied[attributes.node] = relative }
    }

    /// Creates a non-directory under a temporary name with `create`, gives it its metadata,
    /// then publishes it; on any failure the temporary name is removed.
    private func place(_ name: [UInt8], in directory: DirectoryHandle, _ attributes: NodeAttributes, node: PointNamespace.Node,
                       path: String, create: ([UInt8]) throws(RestoreError) -> Void) throws(RestoreError) {
        let temporary = nextTemporaryName()
        do {
            try create(temporary)
            try applyMetadata(attributes, node: node, path: path, name: temporary, in: directory)
        } catch {
            try? directory.remove(temporary)
            throw error
        }
        try publish(temporary, as: name, in: directory)
    }

    /// Writes a regular file's data: only its data ranges, so holes stay holes.
    private func writeData(_ node: PointNamespace.Node, _ attributes: NodeAttributes, path: String,
                           to name: [UInt8], in directory: DirectoryHandle) throws(RestoreError) {
        let file = try destination { () throws(SystemError) in try directory.createFile(name) }
        let ranges = try sourceVolume(node, path) { volume, inner throws(VolumeError) in try volume.dataRanges(of: inner) }
        for range in ranges {
            var offset = range.lowerBound
            while offset < min(range.upperBound, attributes.size) {
                let want = Int(min(UInt64(buffer.count), min(range.upperBound, attributes.size) - offset))
                let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[0 ..< want])
                let got = try sourceVolume(node, path) { volume, inner throws(VolumeError) in try volume.read(inner, at: offset, into: piece) }
                guard got == want else {
                    throw .source(.volume(path: path, .corrupt("file ended at \(offset + UInt64(got)) inside its data (size \(attributes.size))")))
                }
                try destination { () throws(SystemError) in try file.write(at: offset, from: UnsafeRawBufferPointer(piece)) }
                offset += UInt64(want)
                report.bytes += UInt64(want)
                progress?(report.bytes, total)
            }
        }
        try destination { () throws(SystemError) in try file.truncate(to: attributes.size) }
    }

    /// Owner (as root), mode, extended attributes, then times: chown clears setuid bits and
    /// file capabilities, so it comes first; times come last because the others change ctime.
    private func applyMetadata(_ attributes: NodeAttributes, node: PointNamespace.Node, path: String,
                               name: [UInt8], in directory: DirectoryHandle) throws(RestoreError) {
        try destination { () throws(SystemError) in
            if options.preserveOwner { try directory.setOwner(name, uid: attributes.uid, gid: attributes.gid) }
            if attributes.kind != .symlink { try directory.setMode(name, mode_t(attributes.permissions)) }
        }
        if case .file = node {
            let xattrs = try sourceVolume(node, path) { volume, inner throws(VolumeError) in try volume.extendedAttributes(of: inner) }
            for xattr in xattrs {
                do {
                    try directory.setExtendedAttribute(name, key: xattr.name, value: xattr.value)
                } catch {
                    // The destination may not support a namespace (ACLs on tmpfs, trusted.* without root).
                    report.notes.append("\(path): extended attribute \(xattr.name) not set: \(error)")
                }
            }
        }
        try destination { () throws(SystemError) in
            try directory.setTimes(name, accessed: Self.timespecOf(attributes.accessed), modified: Self.timespecOf(attributes.modified))
        }
    }

    static func timespecOf(_ time: Timestamp) -> timespec {
        timespec(tv_sec: Int(time.seconds), tv_nsec: Int(time.nanoseconds))
    }

    static func join(_ directory: String, _ name: FileName) -> String {
        directory == "/" ? "/\(name)" : "\(directory)/\(name)"
    }
}
