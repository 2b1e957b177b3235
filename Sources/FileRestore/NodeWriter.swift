#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import POSIXFiles
import PointNamespace
import VolumeModel

/// What to do when a name to be written already exists at the destination.
public enum ConflictPolicy: String, Sendable, CaseIterable {
    /// Stop with an error (cp without --force).
    case fail
    /// Leave what is there and report the file as skipped.
    case skip
    /// Replace it (atomically: the old file stays until the new one is complete).
    case overwrite
    /// Write beside it as NAME.restored-N.
    case rename
}

/// Writes single nodes of a point into destination directories: the one place where bytes
/// and metadata leave a point, shared by `cp` and `restore`.
///
/// Every operation is relative to a directory descriptor rpfs opened itself, with O_NOFOLLOW
/// and validated single names: nothing already in the destination (a planted symlink) is
/// followed. Each non-directory is made under a temporary name, given its metadata, and only
/// then renamed into place: an interrupted run never leaves a partial file under a real name.
final class NodeWriter {
    /// What one write put where.
    struct Written {
        /// The name it was published under (differs from the asked one with `.rename`).
        var name: [UInt8]
        var bytes: UInt64 = 0
        /// SHA-256 of the file's contents as written (holes hash as zeros), when asked for.
        var digest: [UInt8]?
    }

    static let bufferSize = 8 << 20
    private static let renameLimit = 1000

    private let namespace: PointNamespace
    private let preserveOwner: Bool
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 4096)
    private var temporaryCount = 0
    private let temporaryPrefix = NodeWriter.temporaryPrefix(process: getpid())
    /// Tells apart the temporary names of writers working side by side in one process.
    private let writerID: Int
    /// Called with the bytes of file contents done so far (holes count as done), for
    /// progress bars, whose totals are file sizes.
    var progress: ((UInt64) -> Void)?
    /// Bytes of file data written by this writer.
    private(set) var bytesWritten: UInt64 = 0
    /// Bytes of file contents done, holes included.
    private var bytesDone: UInt64 = 0
    /// Things not restored exactly, one sentence each (xattrs the destination refused, sockets).
    var notes: [String] = []

    init(namespace: PointNamespace, preserveOwner: Bool, writerID: Int = 0) {
        self.namespace = namespace
        self.preserveOwner = preserveOwner
        self.writerID = writerID
    }

    deinit { buffer.deallocate() }

    // MARK: Directories

    /// A new directory (private until its metadata is applied), or an existing one to merge
    /// into unless the policy is `.fail`.
    func directory(_ name: [UInt8], in parent: DirectoryHandle, conflict: ConflictPolicy) throws(RestoreError) -> (handle: DirectoryHandle, created: Bool) {
        do {
            return (try parent.makeDirectory(name), true)
        } catch {
            guard error.errno == EEXIST else { throw .destination(error) }
            guard conflict != .fail else { throw .exists(error.path) }
            return (try destination { () throws(SystemError) in try parent.openDirectory(name) }, false)
        }
    }

    /// The mode of a directory rpfs made that has no stored metadata (a disk's or the plan's own).
    func finishPlainDirectory(_ name: [UInt8], in parent: DirectoryHandle) throws(RestoreError) {
        try destination { () throws(SystemError) in try parent.setMode(name, 0o755) }
    }

    // MARK: Non-directories

    /// How `write` treats one node.
    struct WriteOptions {
        /// What to do when the name exists.
        var conflict: ConflictPolicy
        /// Compute the SHA-256 of a regular file's contents as they are written.
        var hashing = false
        /// An earlier copy of the same inode, as a path relative to `root`: the node becomes a
        /// hard link to it instead of a copy.
        var linkTo: (root: DirectoryHandle, relative: [UInt8])?
        /// False for a directory this run made: saves the look before writing that `.skip` does.
        var mayExist = true
    }

    /// Writes a regular file, symlink, FIFO or device node as `name` in `directory`, or a hard
    /// link with `options.linkTo`. Returns nil when the policy is `.skip` and the name exists.
    /// `willPublish` sees the finished file just before it takes its name (restore journals it
    /// there, so that no file can carry its name without the journal knowing).
    func write(_ node: PointNamespace.Node, _ attributes: NodeAttributes, path: String, into directory: DirectoryHandle,
               as name: [UInt8], options: WriteOptions,
               willPublish: ((Written) throws(RestoreError) -> Void)? = nil) throws(RestoreError) -> Written? {
        if options.conflict == .skip, options.mayExist,
           try destination({ () throws(SystemError) in try directory.status(name) }) != nil { return nil }
        let temporary = nextTemporaryName()
        var written = Written(name: name)
        do {
            if let linkTo = options.linkTo {
                try destination { () throws(SystemError) in try directory.link(temporary, to: linkTo.relative, in: linkTo.root) }
            } else {
                try create(node, attributes, path: path, as: temporary, in: directory, hashing: options.hashing, into: &written)
            }
            try willPublish?(written)
        } catch {
            try? directory.remove(temporary)
            throw error
        }
        guard let published = try publish(temporary, as: name, in: directory, conflict: options.conflict) else { return nil }
        written.name = published
        return written
    }

    /// Makes the node under its temporary name, with its metadata: a regular file's through
    /// its open descriptor, anything else's by name.
    private func create(_ node: PointNamespace.Node, _ attributes: NodeAttributes, path: String, as temporary: [UInt8],
                        in directory: DirectoryHandle, hashing: Bool, into written: inout Written) throws(RestoreError) {
        switch attributes.kind {
        case .regular:
            let file = try destination { () throws(SystemError) in try directory.createFile(temporary) }
            let hasher = hashing ? try ContentHasher(background: attributes.size > UInt64(Self.bufferSize / 2)) : nil
            written.bytes = try writeData(node, attributes, path: path, to: file, hasher: hasher)
            written.digest = hasher?.finish()
            try applyMetadata(attributes, node: node, path: path, to: .file(file))
            return
        case .symlink:
            let target = try sourceVolume(node, path) { volume, inner throws(VolumeError) in try volume.symlinkTarget(of: inner) }
            try destination { () throws(SystemError) in try directory.makeSymlink(temporary, target: target) }
        case .fifo, .blockDevice, .characterDevice:
            let type: mode_t = attributes.kind == .fifo ? S_IFIFO : attributes.kind == .blockDevice ? S_IFBLK : S_IFCHR
            guard attributes.kind == .fifo || geteuid() == 0 else { throw .unsupported("\(path): device node not created (only root can)") }
            try destination { () throws(SystemError) in
                try directory.makeNode(temporary, mode: type | 0o600, device: dev_t(attributes.device))
            }
        case .socket:
            throw .unsupported("\(path): socket not restored (a socket only exists while a program listens on it)")
        case .directory:
            throw .usage("\(path) is a directory")
        }
        try applyMetadata(attributes, node: node, path: path, to: .entry(temporary, in: directory))
    }

    /// A name for a file being written; renamed to its real name once complete. The
    /// process id in it lets a resumed restore find what a killed run left (`isTemporary`).
    private func nextTemporaryName() -> [UInt8] {
        temporaryCount += 1
        return Array("\(temporaryPrefix)\(writerID)-\(temporaryCount).tmp".utf8)
    }

    static func temporaryPrefix(process: Int32) -> String { ".rpfs-\(process)-" }

    /// Whether `name` is a temporary name a writer of process `process` would have made.
    static func isTemporary(_ name: [UInt8], of process: Int32) -> Bool {
        let prefix = Array(temporaryPrefix(process: process).utf8)
        return name.starts(with: prefix) && name.count > prefix.count + 4 && name.suffix(4).elementsEqual(".tmp".utf8)
    }

    /// Publishes a finished temporary file under its real name, or per the policy beside it.
    /// Existence is checked by the rename itself, so nothing is replaced in a race.
    private func publish(_ temporary: [UInt8], as name: [UInt8], in directory: DirectoryHandle,
                         conflict: ConflictPolicy) throws(RestoreError) -> [UInt8]? {
        var candidate = name
        var attempt = 0
        while true {
            do {
                try directory.rename(temporary, to: candidate, replace: conflict == .overwrite)
                return candidate
            } catch {
                guard error.errno == EEXIST, conflict == .rename, attempt < Self.renameLimit else {
                    try? directory.remove(temporary)
                    guard error.errno == EEXIST else { throw .destination(error) }
                    if conflict == .skip { return nil }
                    throw .exists(error.path)
                }
                attempt += 1
                candidate = name + Array(".restored-\(attempt)".utf8)
                guard FileName.isValid(candidate) else {
                    try? directory.remove(temporary)
                    throw .exists(error.path)
                }
            }
        }
    }

    /// Writes a regular file's data: only its data ranges, so holes stay holes. The hasher
    /// sees every byte a reader of the file would, zeros for holes included. The buffer is
    /// used in two halves, so one can be hashed while the other is read and written.
    private func writeData(_ node: PointNamespace.Node, _ attributes: NodeAttributes, path: String, to file: FileDescriptor,
                           hasher: ContentHasher?) throws(RestoreError) -> UInt64 {
        let ranges = try sourceVolume(node, path) { volume, inner throws(VolumeError) in try volume.dataRanges(of: inner) }
        let size = attributes.size
        let half = buffer.count / 2
        let hashed = [DispatchGroup(), DispatchGroup()]
        // Whatever happens, no hash may still be reading the buffer when this returns.
        defer { for group in hashed { group.wait() } }
        var turn = 0
        var offset: UInt64 = 0
        var written: UInt64 = 0
        reading: for range in ranges where range.upperBound > offset && offset < size {
            let start = max(range.lowerBound, offset)
            hasher?.updateZeros(min(start, size) - offset)
            offset = start
            let end = min(range.upperBound, size)
            while offset < end {
                hashed[turn].wait()
                let want = Int(min(UInt64(half), end - offset))
                let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[turn * half ..< turn * half + want])
                let got = try sourceVolume(node, path) { volume, inner throws(VolumeError) in try volume.read(inner, at: offset, into: piece) }
                let read = UnsafeRawBufferPointer(rebasing: piece[0 ..< got])
                try destination { () throws(SystemError) in try file.write(at: offset, from: read) }
                hasher?.update(read, group: hashed[turn])
                turn ^= 1
                offset += UInt64(got)
                written += UInt64(got)
                bytesWritten += UInt64(got)
                progress?(bytesDone + offset)
                // Fewer bytes only at the end of the file (the `Volume` contract): what remains
                // of `size` reads as zeros, as it would through the truncate below.
                if got < want { break reading }
            }
        }
        hasher?.updateZeros(size - min(offset, size))
        bytesDone += size
        progress?(bytesDone)
        // A file that ends in a hole gets its length here; one written to its end already has it.
        if offset != size { try destination { () throws(SystemError) in try file.truncate(to: size) } }
        return written
    }

    // MARK: Metadata

    /// Owner (as root), mode, extended attributes, then times: chown clears setuid bits and
    /// file capabilities, so it comes first; times come last because the others change ctime.
    /// Nodes outside volumes (disks, the root) have no stored metadata and keep defaults.
    func applyMetadata(_ attributes: NodeAttributes, node: PointNamespace.Node, path: String,
                       to target: MetadataTarget) throws(RestoreError) {
        guard case .file = node else { return }
        try destination { () throws(SystemError) in
            if preserveOwner { try target.setOwner(uid: attributes.uid, gid: attributes.gid) }
            if attributes.kind != .symlink { try target.setMode(mode_t(attributes.permissions)) }
        }
        let (xattrs, streams) = try sourceVolume(node, path) { volume, inner throws(VolumeError) in
            (try volume.extendedAttributes(of: inner), try volume.namedStreams(of: inner))
        }
        for stream in streams where !stream.isExtendedAttribute {
            notes.append("\(path): stream '\(stream.name)' (\(stream.size) bytes) not restored: larger than an extended attribute can hold, "
                + "or encrypted (unless it is encrypted, it copies as a file of its own: '\(path):\(stream.name)')")
        }
        for xattr in xattrs {
            do {
                try target.setExtendedAttribute(key: xattr.name, value: xattr.value)
            } catch {
                // The destination may not support a namespace (ACLs on tmpfs, trusted.* without root).
                notes.append("\(path): extended attribute \(xattr.name) not set: \(error)")
            }
        }
        try destination { () throws(SystemError) in
            try target.setTimes(accessed: Self.timespecOf(attributes.accessed), modified: Self.timespecOf(attributes.modified))
        }
    }

    /// What metadata is applied to: an open regular file, or a name in a directory (a
    /// symlink itself, never its target; a directory; a device node).
    enum MetadataTarget {
        case file(FileDescriptor)
        case entry([UInt8], in: DirectoryHandle)

        func setOwner(uid: uid_t, gid: gid_t) throws(SystemError) {
            switch self {
            case let .file(file): try file.setOwner(uid: uid, gid: gid)
            case let .entry(name, directory): try directory.setOwner(name, uid: uid, gid: gid)
            }
        }

        func setMode(_ mode: mode_t) throws(SystemError) {
            switch self {
            case let .file(file): try file.setMode(mode)
            case let .entry(name, directory): try directory.setMode(name, mode)
            }
        }

        func setExtendedAttribute(key: String, value: [UInt8]) throws(SystemError) {
            switch self {
            case let .file(file): try file.setExtendedAttribute(key: key, value: value)
            case let .entry(name, directory): try directory.setExtendedAttribute(name, key: key, value: value)
            }
        }

        func setTimes(accessed: timespec, modified: timespec) throws(SystemError) {
            switch self {
            case let .file(file): try file.setTimes(accessed: accessed, modified: modified)
            case let .entry(name, directory): try directory.setTimes(name, accessed: accessed, modified: modified)
            }
        }
    }

    static func timespecOf(_ time: Timestamp) -> timespec {
        timespec(tv_sec: Int(time.seconds), tv_nsec: Int(time.nanoseconds))
    }

    // MARK: Errors

    func sourceVolume<T>(_ node: PointNamespace.Node, _ path: String,
                         _ body: (any Volume, UInt64) throws(VolumeError) -> T) throws(RestoreError) -> T {
        do {
            return try namespace.withVolume(node, path: path, body)
        } catch {
            throw .source(error)
        }
    }

    func destination<T>(_ body: () throws(SystemError) -> T) throws(RestoreError) -> T {
        do {
            return try body()
        } catch {
            throw .destination(error)
        }
    }
}
