import Foundation
import CLinux
import Glibc
import TestSupport
import Testing
import VolumeModel
import XFSVolume

/// One file as the kernel's XFS shows it through a read-only mount: the oracle.
struct KernelFile: Equatable {
    var attributes: NodeAttributes
    var xattrs: [String: [UInt8]]
    var target: [UInt8]?
    var contents: [UInt8]?
    /// Where a regular file holds data (SEEK_DATA / SEEK_HOLE on the kernel's side).
    var dataRanges: [Range<UInt64>]?
}

/// Every path below a mount point, names as bytes (joined with "/"), read with lstat,
/// readlink, llistxattr and lgetxattr.
enum KernelTree {
    static func read(_ root: String) throws -> [[UInt8]: KernelFile] {
        var result: [[UInt8]: KernelFile] = [:]
        var pending: [[UInt8]] = [[]]
        while let relative = pending.popLast() {
            let directory = Array(root.utf8) + (relative.isEmpty ? [] : [0x2F] + relative)
            guard let handle = opendir(cString(directory)) else { throw TestFailure("opendir \(String(decoding: directory, as: UTF8.self))") }
            defer { closedir(handle) }
            while let entry = readdir(handle) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
                if name == [0x2E] || name == [0x2E, 0x2E] { continue }
                let path = relative.isEmpty ? name : relative + [0x2F] + name
                let file = try self.file(directory + [0x2F] + name)
                result[path] = file
                if file.attributes.kind == .directory { pending.append(path) }
            }
        }
        return result
    }

    static func file(_ path: [UInt8]) throws -> KernelFile {
        var info = stat()
        guard lstat(cString(path), &info) == 0 else { throw TestFailure("lstat failed") }
        let kind: NodeKind = switch info.st_mode & S_IFMT {
        case S_IFREG: .regular
        case S_IFDIR: .directory
        case S_IFLNK: .symlink
        case S_IFBLK: .blockDevice
        case S_IFCHR: .characterDevice
        case S_IFIFO: .fifo
        default: .socket
        }
        func time(_ spec: timespec) -> Timestamp { Timestamp(seconds: Int64(spec.tv_sec), nanoseconds: UInt32(spec.tv_nsec)) }
        let attributes = NodeAttributes(
            node: UInt64(info.st_ino), kind: kind, permissions: UInt16(info.st_mode & 0o7777), uid: info.st_uid, gid: info.st_gid,
            size: kind == .regular || kind == .directory || kind == .symlink ? UInt64(info.st_size) : 0,
            allocatedBytes: UInt64(info.st_blocks) * 512, linkCount: UInt32(info.st_nlink), accessed: time(info.st_atim),
            modified: time(info.st_mtim), changed: time(info.st_ctim), created: nil,
            device: kind == .blockDevice || kind == .characterDevice ? UInt64(info.st_rdev) : 0)
        var file = KernelFile(attributes: attributes, xattrs: try xattrs(path))
        if kind == .symlink {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = readlink(cString(path), &buffer, buffer.count)
            file.target = Array(buffer.prefix(max(count, 0)))
        }
        if kind == .regular {
            let descriptor = open(cString(path), O_RDONLY)
            guard descriptor >= 0 else { throw TestFailure("open failed") }
            defer { close(descriptor) }
            // Before the reads: pages read from unwritten extents count as data.
            var ranges: [Range<UInt64>] = []
            var offset = rpfs_seek_data(descriptor, 0)
            while offset >= 0, offset < info.st_size {
                let end = lseek(descriptor, offset, 4) // SEEK_HOLE
                guard end > offset else { break }
                ranges.append(UInt64(offset) ..< UInt64(end))
                offset = rpfs_seek_data(descriptor, end)
            }
            file.dataRanges = ranges
            var contents = [UInt8](repeating: 0, count: Int(info.st_size))
            var done = 0
            while done < contents.count {
                let count = contents.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, $0.count - done, off_t(done)) }
                guard count > 0 else { throw TestFailure("pread failed") }
                done += count
            }
            file.contents = contents
        }
        return file
    }

    static func xattrs(_ path: [UInt8]) throws -> [String: [UInt8]] {
        var names = [CChar](repeating: 0, count: 65536)
        let length = llistxattr(cString(path), &names, names.count)
        guard length >= 0 else { throw TestFailure("llistxattr failed") }
        var result: [String: [UInt8]] = [:]
        for raw in names.prefix(length).split(separator: 0) {
            let name = String(decoding: raw.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            var value = [UInt8](repeating: 0, count: 65536)
            let count = lgetxattr(cString(path), name, &value, value.count)
            guard count >= 0 else { throw TestFailure("lgetxattr \(name) failed") }
            result[name] = Array(value.prefix(count))
        }
        return result
    }

    private static func cString(_ bytes: [UInt8]) -> [CChar] { bytes.map { CChar(bitPattern: $0) } + [0] }
}

/// Birth times by path, from statx through coreutils' stat (lstat has none): %W gives the
/// seconds, %w the time with its nanoseconds.
enum KernelBirthTimes {
    static func read(_ root: String) throws -> [[UInt8]: Timestamp] {
        let script = #"cd "$1" && find . -mindepth 1 -print0 | xargs -0 -r stat --printf '%n\0%W\0%w\0'"#
        let output = try Shell.run("bash", ["-c", script, "stat", root])
        guard output.status == 0 else { throw TestFailure("stat: \(output.stderr)") }
        let fields = output.output.split(separator: 0, omittingEmptySubsequences: false)
        var result: [[UInt8]: Timestamp] = [:]
        for index in stride(from: 0, to: fields.count - 2, by: 3) {
            let path = Array(fields[index].dropFirst(2))
            let human = String(decoding: fields[index + 2], as: UTF8.self)
            guard let seconds = Int64(String(decoding: fields[index + 1], as: UTF8.self)),
                  let dot = human.firstIndex(of: "."), let nanoseconds = UInt32(human[human.index(after: dot)...].prefix(9)) else {
                throw TestFailure("stat output for \(String(decoding: path, as: UTF8.self))")
            }
            result[path] = Timestamp(seconds: seconds, nanoseconds: nanoseconds)
        }
        return result
    }
}

/// The same as `KernelTree` through the reader.
enum ReaderTree {
    static func read(_ volume: XFSVolume, birthTimes: inout [[UInt8]: Timestamp]) throws -> [[UInt8]: KernelFile] {
        var result: [[UInt8]: KernelFile] = [:]
        var pending: [([UInt8], UInt64)] = [([], volume.rootNode)]
        while let (relative, directory) = pending.popLast() {
            for entry in try volume.entries(of: directory) {
                let path = relative.isEmpty ? entry.name.bytes : relative + [0x2F] + entry.name.bytes
                var attributes = try volume.attributes(of: entry.node)
                #expect(attributes.kind == entry.kind, "\(entry.name): listed as \(entry.kind), inode says \(attributes.kind)")
                #expect(try volume.lookup(entry.name, in: directory) == entry.node)
                // lstat has no birth time: compared with `KernelBirthTimes`.
                birthTimes[path] = attributes.created
                attributes.created = nil
                var file = KernelFile(attributes: attributes, xattrs: [:])
                for attribute in try volume.extendedAttributes(of: entry.node) { file.xattrs[attribute.name] = attribute.value }
                if attributes.kind == .symlink { file.target = try volume.symlinkTarget(of: entry.node) }
                if attributes.kind == .regular {
                    file.contents = try volume.contents(entry.node)
                    file.dataRanges = try volume.dataRanges(of: entry.node)
                }
                result[path] = file
                if attributes.kind == .directory { pending.append((path, entry.node)) }
            }
        }
        return result
    }
}

/// Compares the reader's tree with the kernel's, path by path, field by field.
func expectSameTree(_ volume: XFSVolume, _ image: String, in directory: TemporaryDirectory, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let (kernel, kernelBirthTimes) = try XFSImageBuilder.withKernelMount(image, in: directory) { (try KernelTree.read($0), try KernelBirthTimes.read($0)) }
    var birthTimes: [[UInt8]: Timestamp] = [:]
    let reader = try ReaderTree.read(volume, birthTimes: &birthTimes)
    #expect(birthTimes == kernelBirthTimes && !birthTimes.isEmpty, "birth times differ", sourceLocation: sourceLocation)
    func show(_ path: [UInt8]) -> String { String(decoding: path, as: UTF8.self) }
    #expect(Set(reader.keys) == Set(kernel.keys), "paths differ: only the reader has \(Set(reader.keys).subtracting(kernel.keys).map(show).sorted().prefix(5)), only the kernel \(Set(kernel.keys).subtracting(reader.keys).map(show).sorted().prefix(5))", sourceLocation: sourceLocation)
    var differences = 0
    for (path, expected) in kernel {
        guard let found = reader[path], found != expected else { continue }
        differences += 1
        if differences <= 10 {
            Issue.record("\(show(path)): reader \(found.attributes) xattrs \(found.xattrs.keys.sorted()) target \(found.target.map(show) ?? "-") size \(found.contents?.count ?? -1) data \(found.dataRanges ?? []); kernel \(expected.attributes) xattrs \(expected.xattrs.keys.sorted()) target \(expected.target.map(show) ?? "-") size \(expected.contents?.count ?? -1) data \(expected.dataRanges ?? [])", sourceLocation: sourceLocation)
        }
    }
    #expect(differences == 0, sourceLocation: sourceLocation)
    #expect(kernel.count > 0, sourceLocation: sourceLocation)
}

extension XFSVolume {
    /// The node at a "/"-separated path below the root.
    func node(at path: String) throws -> UInt64 {
        try path.split(separator: "/").reduce(rootNode) { directory, component in
            try lookup(try FileName(validating: String(component)), in: directory)
        }
    }

    /// A whole file, read in pieces of `piece` bytes (odd sizes cross block and extent edges).
    func contents(_ node: UInt64, piece: Int = 65521) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Int(try attributes(of: node).size))
        try bytes.withUnsafeMutableBytes { buffer in
            for start in stride(from: 0, to: buffer.count, by: piece) {
                let end = min(start + piece, buffer.count)
                let count = try read(node, at: UInt64(start), into: UnsafeMutableRawBufferPointer(rebasing: buffer[start ..< end]))
                guard count == end - start else { throw TestFailure("read \(count) of \(end - start) bytes at \(start)") }
            }
        }
        return bytes
    }
}
