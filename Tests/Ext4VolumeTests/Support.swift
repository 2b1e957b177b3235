import Foundation
#if canImport(Glibc)
import Glibc
#endif
import BlockDevices
import Ext4Volume
import POSIXFiles
import TestSupport
import Testing
import VolumeModel

// MARK: - Running the real tools

/// Output of a tool, stdout as bytes (fls prints names as stored, not necessarily UTF-8).
struct ToolOutput {
    let status: Int32
    let stdout: [UInt8]
    let stderr: String
    var text: String { String(decoding: stdout, as: UTF8.self) }
}

enum Tool {
    @discardableResult
    static func run(_ name: String, _ arguments: [String], allowFailure: Bool = false) throws -> ToolOutput {
        let result = try Shell.run(name, arguments)
        if !allowFailure, result.status != 0 {
            throw TestFailure("\(name) \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        return ToolOutput(status: result.status, stdout: result.output, stderr: result.stderr)
    }

    /// Runs debugfs requests (one per line) against an image; `write` opens it read-write.
    @discardableResult
    static func debugfs(_ image: String, _ requests: [String], write: Bool = false, in directory: TemporaryDirectory) throws -> String {
        let script = directory.file("debugfs-\(UUID().uuidString).cmd")
        try requests.joined(separator: "\n").appending("\n").write(toFile: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: script) }
        let output = try run("debugfs", (write ? ["-w"] : []) + ["-f", script, image])
        // debugfs reports a failed request on stderr but still exits 0: surface it.
        let failures = output.stderr.split(separator: "\n").filter { !$0.hasPrefix("debugfs ") }
        if write, !failures.isEmpty {
            throw TestFailure("debugfs \(requests): \(failures.joined(separator: "; "))")
        }
        // With -f, debugfs echoes each request as "debugfs: request"; keep only the answers.
        return output.text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("debugfs: ") }.joined(separator: "\n")
    }

    /// mke2fs of `source` into a new image; then `e2fsck -fyD` so every directory of more than
    /// one block gets an htree index, as a kernel-written volume would have.
    static func makeFilesystem(_ image: String, from source: String?, size: String, options: [String]) throws {
        try run("mke2fs", ["-q", "-F"] + options + (source.map { ["-d", $0] } ?? []) + [image, size])
        let check = try run("e2fsck", ["-fyD", image], allowFailure: true)
        // 0: clean; 1: errors corrected (here: directories optimized).
        guard check.status == 0 || check.status == 1 else {
            throw TestFailure("e2fsck -fyD \(image) exited \(check.status): \(check.text) \(check.stderr)")
        }
    }

    /// The Sleuth Kit's `fls -r -p`: allocated entries as path bytes → inode. TSK prints
    /// control characters in names as '^'.
    static func fls(_ image: String) throws -> [[UInt8]: UInt64] {
        var listing: [[UInt8]: UInt64] = [:]
        for line in try run("fls", ["-r", "-p", image]).stdout.split(separator: UInt8(ascii: "\n")) {
            guard let tab = line.firstIndex(of: UInt8(ascii: "\t")) else { continue }
            let head = String(decoding: line[..<tab], as: UTF8.self)
            let path = Array(line[(tab + 1)...])
            // "r/r 12:", "d/d * 22(realloc):" (deleted), "V/V 1025:" ($OrphanFiles, virtual).
            let fields = head.split(separator: " ")
            guard fields.count == 2, !head.hasPrefix("V/V") else { continue }
            let number = fields[1].prefix { $0.isNumber }
            guard let inode = UInt64(number) else { continue }
            listing[path] = inode
        }
        return listing
    }

    static func icat(_ image: String, _ inode: UInt64) throws -> [UInt8] {
        try run("icat", [image, String(inode)]).stdout
    }

    /// Decompresses a fixture from fixtures/ext into `directory`.
    static func fixture(_ name: String, in directory: TemporaryDirectory) throws -> String {
        let image = directory.file(name)
        let compressed = "\(repositoryRoot)/fixtures/ext/\(name).zst"
        try run("zstd", ["-q", "-d", "-f", compressed, "-o", image])
        return image
    }

    static func fixtureListing(_ name: String) throws -> [[UInt8]: UInt64] {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(repositoryRoot)/fixtures/ext/\(name).fls.txt"))
        var listing: [[UInt8]: UInt64] = [:]
        for line in [UInt8](data).split(separator: UInt8(ascii: "\n")) {
            guard let tab = line.firstIndex(of: UInt8(ascii: "\t")) else { continue }
            let head = String(decoding: line[..<tab], as: UTF8.self)
            let fields = head.split(separator: " ")
            guard fields.count == 2, !head.hasPrefix("V/V") else { continue }
            guard let inode = UInt64(fields[1].prefix { $0.isNumber }) else { continue }
            listing[Array(line[(tab + 1)...])] = inode
        }
        return listing
    }
}

// MARK: - POSIX with byte paths (names that are not UTF-8 cannot be Swift Strings)

enum Posix {
    static func cPath(_ path: [UInt8]) -> [CChar] { path.map { CChar(bitPattern: $0) } + [0] }

    static func check(_ result: Int32, _ what: String, _ path: [UInt8]) throws {
        guard result == 0 else {
            throw TestFailure("\(what) \(String(decoding: path, as: UTF8.self)): \(String(cString: strerror(errno)))")
        }
    }

    static func mkdir(_ path: [UInt8], mode: mode_t = 0o755) throws {
        try check(Glibc.mkdir(cPath(path), mode), "mkdir", path)
    }

    /// Creates `path` with `size` bytes: zeros except `pieces` (a sparse file when the gaps are large).
    static func writeFile(_ path: [UInt8], size: UInt64? = nil, pieces: [(offset: UInt64, bytes: [UInt8])]) throws {
        let descriptor = Glibc.open(cPath(path), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { try check(-1, "open", path); return }
        defer { close(descriptor) }
        for piece in pieces {
            let written = piece.bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, off_t(piece.offset)) }
            guard written == piece.bytes.count else { try check(-1, "pwrite", path); return }
        }
        if let size { try check(ftruncate(descriptor, off_t(size)), "ftruncate", path) }
    }

    static func writeFile(_ path: [UInt8], _ bytes: [UInt8]) throws {
        try writeFile(path, size: UInt64(bytes.count), pieces: bytes.isEmpty ? [] : [(UInt64(0), bytes)])
    }

    static func symlink(_ target: [UInt8], at path: [UInt8]) throws {
        try check(Glibc.symlink(cPath(target), cPath(path)), "symlink", path)
    }

    static func link(_ existing: [UInt8], _ path: [UInt8]) throws {
        try check(Glibc.link(cPath(existing), cPath(path)), "link", path)
    }

    static func mkfifo(_ path: [UInt8], mode: mode_t = 0o640) throws {
        try check(Glibc.mkfifo(cPath(path), mode), "mkfifo", path)
    }

    /// A Unix-domain socket file, as a daemon leaves behind.
    static func socketFile(_ path: [UInt8]) throws {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { try check(-1, "socket", path); return }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.count < capacity else { throw TestFailure("socket path too long") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.enumerated() { raw[index] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try check(result, "bind", path)
    }

    static func chmod(_ path: [UInt8], _ mode: mode_t) throws {
        try check(Glibc.chmod(cPath(path), mode), "chmod", path)
    }

    static func setTimes(_ path: [UInt8], accessed: Int, modified: Int, nanoseconds: Int = 0) throws {
        var times = [timespec(tv_sec: accessed, tv_nsec: nanoseconds), timespec(tv_sec: modified, tv_nsec: nanoseconds)]
        try check(utimensat(AT_FDCWD, cPath(path), &times, AT_SYMLINK_NOFOLLOW), "utimensat", path)
    }

    static func lstat(_ path: [UInt8]) throws -> stat {
        var info = stat()
        try check(Glibc.lstat(cPath(path), &info), "lstat", path)
        return info
    }

    static func readlink(_ path: [UInt8]) throws -> [UInt8] {
        var buffer = [CChar](repeating: 0, count: 8192)
        let count = Glibc.readlink(cPath(path), &buffer, buffer.count)
        guard count >= 0 else { try check(-1, "readlink", path); return [] }
        return buffer.prefix(count).map { UInt8(bitPattern: $0) }
    }

    static func readFile(_ path: [UInt8], at offset: UInt64 = 0, count: Int? = nil) throws -> [UInt8] {
        let descriptor = Glibc.open(cPath(path), O_RDONLY)
        guard descriptor >= 0 else { try check(-1, "open", path); return [] }
        defer { close(descriptor) }
        var info = stat()
        fstat(descriptor, &info)
        let wanted = count ?? Int(max(Int64(info.st_size) - Int64(offset), 0))
        var bytes = [UInt8](repeating: 0, count: wanted)
        var done = 0
        while done < wanted {
            let n = bytes.withUnsafeMutableBytes { buffer in
                pread(descriptor, buffer.baseAddress.map { $0 + done }, wanted - done, off_t(offset) + off_t(done))
            }
            guard n > 0 else { break }
            done += n
        }
        return Array(bytes.prefix(done))
    }

    /// Names in a directory, "." and ".." left out.
    static func list(_ path: [UInt8]) throws -> [[UInt8]] {
        guard let directory = opendir(cPath(path)) else { try check(-1, "opendir", path); return [] }
        defer { closedir(directory) }
        var names: [[UInt8]] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name != [0x2E], name != [0x2E, 0x2E] { names.append(name) }
        }
        return names
    }
}

func join(_ parent: [UInt8], _ name: [UInt8]) -> [UInt8] { parent + [UInt8(ascii: "/")] + name }
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

// MARK: - Reading a volume

/// Everything Ext4Volume shows for one path.
struct VolumeNode {
    let path: [UInt8]
    let entry: DirectoryEntry
    let attributes: NodeAttributes
}

extension Ext4Volume {
    /// Every node below the root by path ("a/b"), depth-first; errors are recorded as issues.
    func walk(skipping skipped: Set<UInt64> = []) throws -> [[UInt8]: VolumeNode] {
        var nodes: [[UInt8]: VolumeNode] = [:]
        var pending: [(node: UInt64, path: [UInt8])] = [(rootNode, [])]
        var visited: Set<UInt64> = [rootNode]
        while let (directory, path) = pending.popLast() {
            for entry in try entries(of: directory) {
                let child = path.isEmpty ? entry.name.bytes : join(path, entry.name.bytes)
                nodes[child] = VolumeNode(path: child, entry: entry, attributes: try attributes(of: entry.node))
                if entry.kind == .directory, !skipped.contains(entry.node), visited.insert(entry.node).inserted {
                    pending.append((entry.node, child))
                }
            }
        }
        return nodes
    }

    func readAll(_ node: UInt64, chunk: Int = 1 << 20) throws(VolumeError) -> [UInt8] {
        let size = try attributes(of: node).size
        var out: [UInt8] = []
        var offset: UInt64 = 0
        while offset < size {
            let piece = try read(node, at: offset, count: Int(min(UInt64(chunk), size - offset)))
            guard !piece.isEmpty else { break }
            out += piece
            offset += UInt64(piece.count)
        }
        return out
    }

    /// Up to `count` bytes at `offset` (the buffer starts as 0xA5 so unwritten bytes show).
    func read(_ node: UInt64, at offset: UInt64, count: Int) throws(VolumeError) -> [UInt8] {
        var out = [UInt8](repeating: 0xA5, count: count)
        let got = try out.withUnsafeMutableBytes { buffer in
            Result { () throws(VolumeError) in try read(node, at: offset, into: buffer) }
        }.get()
        return Array(out.prefix(got))
    }

    func node(at path: String) throws(VolumeError) -> UInt64 {
        var node = rootNode
        for component in path.split(separator: "/") {
            node = try lookup(FileName(validating: String(component)), in: node)
        }
        return node
    }
}

// MARK: - Devices for tests

/// A volume image held in memory, for mutation tests.
struct MemoryDevice: BlockDevice {
    let bytes: [UInt8]
    var size: UInt64 { UInt64(bytes.count) }

    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DiskReadError) {
        guard offset <= size, UInt64(buffer.count) <= size - offset else {
            throw .outOfRange(offset: offset, count: buffer.count, size: size)
        }
        let start = Int(offset)
        bytes.withUnsafeBytes { source in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[start ..< start + buffer.count]))
        }
    }
}

/// Another device whose reads touching `failing` fail as a damaged chunk would.
struct FailingDevice: BlockDevice {
    let base: any BlockDevice
    let failing: Range<UInt64>
    var size: UInt64 { base.size }

    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DiskReadError) {
        let range = offset ..< offset + UInt64(buffer.count)
        if range.overlaps(failing) {
            throw .io(SystemErrorStub.make())
        }
        try base.read(at: offset, into: buffer)
    }
}

enum SystemErrorStub {
    static func make() -> SystemError { SystemError("pread", path: "test-device", errno: EIO) }
}

func openVolume(_ image: String, name: String = "test") throws(VolumeError) -> Ext4Volume {
    let device: FileBlockDevice
    do { device = try FileBlockDevice(path: image) } catch { throw .device(error) }
    return try Ext4Volume.open(device, name: name)
}

/// Deterministic content for files of a given size.
func content(_ size: Int, seed: UInt64) -> [UInt8] {
    var random = SeededBytes(seed: seed)
    return random.bytes(size)
}

// MARK: - debugfs as a second reader of the same image

/// What `debugfs -R "stat <N>"` prints about an inode.
struct DebugfsInode {
    var flags: UInt32 = 0
    var size: UInt64 = 0
    var links: UInt32 = 0
    var blockCount: UInt64 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
    /// Raw time fields: "ctime" → (seconds word, extra word or nil).
    var times: [String: (UInt32, UInt32?)] = [:]
    /// Mapped logical blocks: (first, count, uninitialized).
    var extents: [(logical: UInt64, count: UInt64, uninitialized: Bool)] = []
}

enum Debugfs {
    static func stat(_ image: String, _ inodes: [UInt64], in directory: TemporaryDirectory) throws -> [UInt64: DebugfsInode] {
        let output = try Tool.debugfs(image, inodes.map { "stat <\($0)>" }, in: directory)
        var reports: [UInt64: DebugfsInode] = [:]
        var current: (UInt64, DebugfsInode)?
        var inMap = false
        for rawLine in output.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("Inode: ") {
                if let current { reports[current.0] = current.1 }
                let number = line.dropFirst(7).prefix { $0.isNumber }
                current = (UInt64(number) ?? 0, DebugfsInode())
                inMap = false
                if let flags = value(after: "Flags: 0x", in: line, radix: 16) { current?.1.flags = UInt32(flags) }
                continue
            }
            guard current != nil else { continue }
            if line.hasPrefix("User:") {
                current?.1.uid = UInt32(value(after: "User:", in: line) ?? 0)
                current?.1.gid = UInt32(value(after: "Group:", in: line) ?? 0)
                current?.1.size = value(after: "Size:", in: line) ?? 0
            } else if line.hasPrefix("Links:") {
                current?.1.links = UInt32(value(after: "Links:", in: line) ?? 0)
                current?.1.blockCount = value(after: "Blockcount:", in: line) ?? 0
            } else if let colon = line.firstIndex(of: ":"), ["ctime", "atime", "mtime", "crtime"].contains(String(line[..<colon])) {
                let field = String(line[..<colon])
                let rest = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                let word = rest.prefix { $0 != " " }
                let parts = word.split(separator: ":")
                if let seconds = parts.first.flatMap({ UInt32($0.dropFirst(2), radix: 16) }) {
                    current?.1.times[field] = (seconds, parts.count > 1 ? UInt32(parts[1], radix: 16) : nil)
                }
            } else if line == "EXTENTS:" || line == "BLOCKS:" {
                inMap = true
            } else if inMap {
                for item in line.split(separator: ",") {
                    let piece = item.trimmingCharacters(in: .whitespaces)
                    guard piece.hasPrefix("("), let close = piece.firstIndex(of: ")") else { continue }
                    var logical = String(piece[piece.index(after: piece.startIndex) ..< close])
                    let uninitialized = logical.hasSuffix("[u]")
                    if uninitialized { logical.removeLast(3) }
                    let bounds = logical.split(separator: "-")
                    guard let first = bounds.first.flatMap({ UInt64($0) }) else { continue } // IND, ETB0, ...
                    let last = bounds.count > 1 ? UInt64(bounds[1]) ?? first : first
                    current?.1.extents.append((first, last - first + 1, uninitialized))
                }
                inMap = false
            }
        }
        if let current { reports[current.0] = current.1 }
        return reports
    }

    /// The byte ranges of initialized, mapped blocks, clipped to the size and merged.
    static func dataRanges(_ report: DebugfsInode, blockSize: UInt64) -> [Range<UInt64>] {
        var ranges: [Range<UInt64>] = []
        for extent in report.extents.sorted(by: { $0.logical < $1.logical }) where !extent.uninitialized {
            let start = extent.logical * blockSize
            let end = min((extent.logical + extent.count) * blockSize, report.size)
            guard start < end else { continue }
            if let last = ranges.last, last.upperBound == start {
                ranges[ranges.count - 1] = last.lowerBound ..< end
            } else {
                ranges.append(start ..< end)
            }
        }
        return ranges
    }

    private static func value(after label: String, in line: String, radix: Int = 10) -> UInt64? {
        guard let range = line.range(of: label) else { return nil }
        let rest = line[range.upperBound...].drop { $0 == " " }
        return UInt64(rest.prefix { $0.isHexDigit }, radix: radix)
    }
}

extension Posix {
    /// Overwrites bytes of an existing file (an image) in place.
    static func patch(_ file: String, at offset: UInt64, _ replacement: [UInt8]) throws {
        let path = bytes(file)
        let descriptor = Glibc.open(cPath(path), O_WRONLY)
        guard descriptor >= 0 else { try check(-1, "open", path); return }
        defer { close(descriptor) }
        let written = replacement.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, off_t(offset)) }
        guard written == replacement.count else { try check(-1, "pwrite", path); return }
    }
}

/// A small image made from a tree that `populate` writes into `src`.
func makeImage(in directory: TemporaryDirectory, name: String = "volume.img", size: String = "8M", options: [String],
               populate: ([UInt8]) throws -> Void) throws -> String {
    let source = bytes(directory.file("src-\(name)"))
    try Posix.mkdir(source)
    try populate(source)
    let image = directory.file(name)
    try Tool.makeFilesystem(image, from: text(source), size: size, options: options)
    return image
}

/// debugfs "imap": where an inode lives (byte offset of the inode in the image).
func inodeOffset(_ image: String, _ inode: UInt64, blockSize: UInt64, in directory: TemporaryDirectory) throws -> UInt64 {
    let output = try Tool.debugfs(image, ["imap <\(inode)>"], in: directory)
    // "Inode 12 is part of block group 0\n\tlocated at block 35, offset 0x0b00"
    guard let blockRange = output.range(of: "located at block "), let offsetRange = output.range(of: "offset 0x") else {
        throw TestFailure("imap: \(output)")
    }
    let block = UInt64(output[blockRange.upperBound...].prefix { $0.isNumber }) ?? 0
    let offset = UInt64(output[offsetRange.upperBound...].prefix { $0.isHexDigit }, radix: 16) ?? 0
    return block * blockSize + offset
}

/// debugfs "bmap": the physical block of a file's logical block.
func physicalBlock(_ image: String, _ path: String, logical: UInt64, in directory: TemporaryDirectory) throws -> UInt64 {
    let output = try Tool.debugfs(image, ["bmap \(path) \(logical)"], in: directory)
    guard let block = UInt64(output.trimmingCharacters(in: .whitespacesAndNewlines).prefix { $0.isNumber }) else {
        throw TestFailure("bmap: \(output)")
    }
    return block
}

extension VolumeError {
    /// The case name, for expectations on the kind of failure.
    var kind: String {
        switch self {
        case .notFound: "notFound"
        case .notADirectory: "notADirectory"
        case .notASymlink: "notASymlink"
        case .isADirectory: "isADirectory"
        case .invalidName: "invalidName"
        case .corrupt: "corrupt"
        case .refused: "refused"
        case .unsupported: "unsupported"
        case .device: "device"
        }
    }
}

/// The `VolumeError` `body` throws, or nil (with an issue recorded) when it succeeds.
func volumeError<T>(_ body: () throws(VolumeError) -> T, sourceLocation: SourceLocation = #_sourceLocation) -> VolumeError? {
    do {
        _ = try body()
        Issue.record("expected a VolumeError", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}
