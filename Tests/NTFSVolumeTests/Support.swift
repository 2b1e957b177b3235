import BlockDevices
import Foundation
import NTFSVolume
import TestSupport
import Testing
import VolumeModel

func openVolume(_ image: String, name: String = "ntfs") throws(VolumeError) -> NTFSVolume {
    let device: FileBlockDevice
    do {
        device = try FileBlockDevice(path: image)
    } catch {
        throw .device(error)
    }
    return try NTFSVolume.open(device, name: name)
}

/// Bytes in memory as a device, for mutation loops that must not touch the disk.
final class MemoryDevice: BlockDevice {
    let bytes: [UInt8]
    var size: UInt64 { UInt64(bytes.count) }
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DiskReadError) {
        let (end, overflow) = offset.addingReportingOverflow(UInt64(buffer.count))
        guard !overflow, end <= size else { throw .outOfRange(offset: offset, count: buffer.count, size: size) }
        bytes.withUnsafeBytes { source in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[Int(offset) ..< Int(end)]))
        }
    }
}

func volumeError(_ body: () throws(VolumeError) -> Void) -> VolumeError? {
    do {
        try body()
        return nil
    } catch {
        return error
    }
}

extension VolumeError {
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

extension Volume {
    func node(at path: String) throws -> UInt64 {
        var node = rootNode
        for component in path.split(separator: "/") {
            node = try lookup(try FileName(validating: String(component)), in: node)
        }
        return node
    }

    func contents(_ node: UInt64) throws -> [UInt8] {
        let size = try attributes(of: node).size
        var bytes = [UInt8](repeating: 0, count: Int(size))
        var offset = 0
        // Odd-sized reads cross cluster, run and compression-unit boundaries.
        while offset < bytes.count {
            let want = min(bytes.count - offset, 77777)
            let count = try bytes.withUnsafeMutableBytes { buffer in
                try read(node, at: UInt64(offset), into: UnsafeMutableRawBufferPointer(rebasing: buffer[offset ..< offset + want]))
            }
            #expect(count == want)
            if count == 0 { break }
            offset += count
        }
        return bytes
    }

    /// The whole file in one read, with the volume's own error type.
    func data(_ node: UInt64) throws(VolumeError) -> [UInt8] {
        let size = try attributes(of: node).size
        var bytes = [UInt8](repeating: 0, count: Int(min(size, 1 << 26)))
        let count = try bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(VolumeError) in try read(node, at: 0, into: buffer) }
        }.get()
        return Array(bytes.prefix(count))
    }

    /// Every path below the root with its node and kind.
    func tree() throws -> [String: DirectoryEntry] {
        var result: [String: DirectoryEntry] = [:]
        var pending: [(String, UInt64)] = [("", rootNode)]
        while let (prefix, directory) = pending.popLast() {
            for entry in try entries(of: directory) {
                let path = prefix.isEmpty ? entry.name.description : prefix + "/" + entry.name.description
                result[path] = entry
                if entry.kind == .directory { pending.append((path, entry.node)) }
            }
        }
        return result
    }
}

enum SleuthKit {
    struct Entry { let inode: UInt64; let type: String; let attribute: String? }

    /// `fls -r -p`: allocated entries by path. Metafiles and their streams are left out,
    /// as NTFSVolume hides them; "name:stream" lines are kept under that name.
    static func fls(_ image: String) throws -> [String: Entry] {
        let output = try Shell.run("fls", ["-r", "-p", image])
        guard output.status == 0 else { throw TestFailure("fls: \(output.stderr)") }
        var listing: [String: Entry] = [:]
        for line in output.stdout.split(separator: "\n") {
            guard let tab = line.firstIndex(of: "\t") else { continue }
            let head = line[..<tab]
            let path = String(line[line.index(after: tab)...])
            let fields = head.split(separator: " ")
            guard fields.count == 2, !head.hasPrefix("V/V"), !path.hasPrefix("$") else { continue }
            let address = fields[1].dropLast() // "64-128-2:"
            let parts = address.split(separator: "-")
            guard let inode = UInt64(parts[0]) else { continue }
            listing[path] = Entry(inode: inode, type: String(fields[0]), attribute: parts.count == 3 ? "\(parts[1])-\(parts[2])" : nil)
        }
        return listing
    }

    static func icat(_ image: String, _ address: String) throws -> [UInt8] {
        let output = try Shell.run("icat", [image, address])
        guard output.status == 0 else { throw TestFailure("icat \(address): \(output.stderr)") }
        return output.output
    }
}

enum NTFSImage {
    /// Reads a little-endian integer from an image file.
    static func bytes(_ image: String, at offset: UInt64, count: Int) throws -> [UInt8] {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: image))
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        return [UInt8](try handle.read(upToCount: count) ?? Data())
    }

    static func patch(_ image: String, at offset: UInt64, _ bytes: [UInt8]) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: image))
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        try handle.write(contentsOf: Data(bytes))
    }

    static func le(_ bytes: [UInt8], _ offset: Int, _ width: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in 0 ..< width { value |= UInt64(bytes[offset + index]) << (8 * UInt64(index)) }
        return value
    }

    /// Volume byte of MFT record `number` (fresh mkntfs volumes keep the MFT's start contiguous).
    static func recordOffset(_ image: String, _ number: UInt64) throws -> UInt64 {
        let boot = try bytes(image, at: 0, count: 512)
        let cluster = le(boot, 0x0B, 2) * le(boot, 0x0D, 1)
        let raw = Int8(bitPattern: boot[0x40])
        let recordSize: UInt64 = raw > 0 ? UInt64(raw) * cluster : 1 << UInt64(-Int(raw))
        return le(boot, 0x30, 8) * cluster + number * recordSize
    }

    /// Offset (inside the record) of the first attribute of `type` in record `number`.
    static func attributeOffset(_ image: String, record number: UInt64, type: UInt32) throws -> Int {
        let record = try bytes(image, at: try recordOffset(image, number), count: 1024)
        var offset = Int(le(record, 0x14, 2))
        while offset + 8 < record.count {
            let found = UInt32(le(record, offset, 4))
            if found == 0xFFFF_FFFF { break }
            if found == type { return offset }
            offset += Int(le(record, offset + 4, 4))
        }
        throw TestFailure("no attribute 0x\(String(type, radix: 16)) in record \(number)")
    }

    /// Clusters of an attribute as istat lists them ("Type: $X (T-ID) ... Non-Resident" then numbers).
    static func clusters(_ image: String, _ inode: UInt64, attribute: String) throws -> [UInt64] {
        let text = try Shell.check("istat", [image, String(inode)])
        var found = false
        var clusters: [UInt64] = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix("Type: ") {
                if found { break }
                found = line.contains("(" + attribute)
                continue
            }
            if found { clusters += line.split(separator: " ").compactMap { UInt64($0) } }
        }
        return clusters
    }
}

/// Reparse data for a symbolic link (relative) or a junction, as ntfs-3g accepts it in
/// system.ntfs_reparse_data.
func reparseHex(tag: UInt32, substitute: String, print: String, relative: Bool) -> String {
    func utf16(_ text: String) -> [UInt8] { text.utf16.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8($0 >> 8)] } }
    func u16(_ value: Int) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
    let substituteBytes = utf16(substitute)
    let printBytes = utf16(print)
    var data = u16(0) + u16(substituteBytes.count) + u16(substituteBytes.count) + u16(printBytes.count)
    if tag == 0xA000_000C { data += relative ? [1, 0, 0, 0] : [0, 0, 0, 0] }
    data += substituteBytes + printBytes
    let header: [UInt8] = [UInt8(tag & 0xFF), UInt8((tag >> 8) & 0xFF), UInt8((tag >> 16) & 0xFF), UInt8(tag >> 24)] + u16(data.count) + [0, 0]
    return "0x" + (header + data).map { String(format: "%02x", $0) }.joined()
}
