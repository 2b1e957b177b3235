import BlockDevices
import Foundation
import PartitionTable
import TestSupport

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

/// `blkid -p` of the volume at `offset` in an image: TYPE, LABEL, UUID… as an independent reading.
func blkid(_ path: String, offset: UInt64 = 0) throws -> [String: String] {
    var fields: [String: String] = [:]
    for line in try Shell.check("blkid", ["-p", "-O", "\(offset)", "-o", "export", path]).split(separator: "\n") {
        guard let equals = line.firstIndex(of: "=") else { continue }
        fields[String(line[..<equals])] = String(line[line.index(after: equals)...]).replacingOccurrences(of: "\\ ", with: " ")
    }
    return fields
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
