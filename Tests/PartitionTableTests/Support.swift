import Foundation
import PartitionTable
import VirtualDisk

/// A disk held in memory, for tables and boot sectors built or mutated by a test.
struct MemoryDisk: BlockDevice {
    var bytes: [UInt8]
    var size: UInt64 { UInt64(bytes.count) }

    init(_ bytes: [UInt8]) { self.bytes = bytes }
    init(size: Int) { bytes = [UInt8](repeating: 0, count: size) }

    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DiskReadError) {
        guard offset <= size, UInt64(buffer.count) <= size - offset else {
            throw .outOfRange(offset: offset, count: buffer.count, size: size)
        }
        let start = Int(offset)
        bytes[start ..< start + buffer.count].withUnsafeBytes { buffer.copyMemory(from: $0) }
    }

    mutating func write(_ data: some Collection<UInt8>, at offset: Int) {
        bytes.replaceSubrange(offset ..< offset + data.count, with: data)
    }

    mutating func writeLE<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        write((0 ..< MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }, at: offset)
    }
}

/// A disk whose every read fails, as a missing chunk of a point would.
struct FailingDisk: BlockDevice {
    let size: UInt64
    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DiskReadError) {
        throw .outOfRange(offset: offset, count: buffer.count, size: 0)
    }
}

struct ToolFailure: Error, CustomStringConvertible {
    let description: String
}

/// Runs the real tools (sfdisk, sgdisk, mke2fs, cryptsetup, blkid…) that make and check images.
enum Tool {
    static let searchPath = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]

    static func path(_ name: String) -> String? {
        searchPath.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @discardableResult
    static func run(_ name: String, _ arguments: [String], input: String? = nil) throws -> String {
        guard let executable = path(name) else {
            throw ToolFailure(description: "\(name) is not installed (the test needs it; see docs/PARTITIONS.md)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe(), errors = Pipe(), stdin = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ToolFailure(description: "\(name) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(String(decoding: err, as: UTF8.self))")
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `blkid -p` of the volume at `offset` in an image: TYPE, LABEL, UUID… as an independent reading.
    static func blkid(_ path: String, offset: UInt64 = 0) throws -> [String: String] {
        var fields: [String: String] = [:]
        for line in try run("blkid", ["-p", "-O", "\(offset)", "-o", "export", path]).split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<equals])] = String(line[line.index(after: equals)...]).replacingOccurrences(of: "\\ ", with: " ")
        }
        return fields
    }
}

/// A temporary directory for one test's images, removed when the test is done.
final class Scratch {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "rpfs-partition-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// A sparse file of `size` bytes.
    func image(_ name: String, size: UInt64) throws -> String {
        let file = "\(path)/\(name)"
        guard FileManager.default.createFile(atPath: file, contents: nil) else {
            throw ToolFailure(description: "cannot create \(file)")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        try handle.truncate(atOffset: size)
        try handle.close()
        return file
    }

    /// A fixture from `fixtures/<folder>/<name>.zst`, unpacked here with zstd.
    func fixture(_ folder: String, _ name: String) throws -> String {
        let source = "\(Self.repositoryRoot)/fixtures/\(folder)/\(name).zst"
        let file = "\(path)/\(name)"
        try Tool.run("zstd", ["-q", "-d", "-f", source, "-o", file])
        return file
    }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let file = "\(path)/\(name)"
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
}

/// Copies the whole of `source` into `target` at `offset`: a filesystem made alone becomes a partition.
func splice(_ source: String, into target: String, at offset: UInt64) throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: source))
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: target))
    try handle.seek(toOffset: offset)
    try handle.write(contentsOf: data)
    try handle.close()
}

func readFile(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

func device(_ path: String) throws -> FileBlockDevice {
    try FileBlockDevice(path: path)
}

/// The probe of the volume named `name` on `disk`.
func probe(_ name: String, on disk: some BlockDevice) throws -> VolumeInfo? {
    let volumes = try PartitionTable.read(disk).volumes(on: disk)
    return volumes.first { $0.name == name }.map { VolumeProbe.probe($0.device) }
}
