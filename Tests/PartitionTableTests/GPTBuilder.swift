import ByteParsing
import PartitionTable

/// Writes a GPT byte by byte, for what the tools cannot make: 4096-byte sectors from a file,
/// and headers whose fields are absurd yet whose CRCs are right.
struct GPTBuilder {
    struct Entry {
        var typeGUID: [UInt8]
        var uniqueGUID: [UInt8]
        var firstLBA: UInt64
        var lastLBA: UInt64
        var attributes: UInt64 = 0
        var name: String
    }

    static let linuxFilesystem = guid("0FC63DAF-8483-4772-8E79-3D69D8477DE4")
    static let microsoftBasicData = guid("EBD0A0A2-B9E5-4433-87C0-68B6B72699C7")

    var sectorSize: Int
    var sectors: Int
    var entries: [Entry]
    var entryCount = 128
    var entrySize = 128
    var diskGUID = guid("01234567-89AB-CDEF-0123-456789ABCDEF")

    var entryArraySectors: Int { (entryCount * entrySize + sectorSize - 1) / sectorSize }
    var primaryHeaderOffset: Int { sectorSize }
    var backupHeaderOffset: Int { (sectors - 1) * sectorSize }

    func build() -> MemoryDisk {
        var disk = MemoryDisk(size: sectors * sectorSize)
        // Protective MBR: one 0xEE entry covering the disk from LBA 1.
        disk.write([0xEE], at: 446 + 4)
        disk.writeLE(UInt32(1), at: 446 + 8)
        disk.writeLE(UInt32(min(sectors - 1, Int(UInt32.max))), at: 446 + 12)
        disk.write([0x55, 0xAA], at: 510)

        var array = [UInt8](repeating: 0, count: entryCount * entrySize)
        for (index, entry) in entries.enumerated() {
            var slot = MemoryDisk(size: 128)
            slot.write(entry.typeGUID, at: 0)
            slot.write(entry.uniqueGUID, at: 16)
            slot.writeLE(entry.firstLBA, at: 32)
            slot.writeLE(entry.lastLBA, at: 40)
            slot.writeLE(entry.attributes, at: 48)
            for (unit, code) in entry.name.utf16.prefix(36).enumerated() { slot.writeLE(code, at: 56 + 2 * unit) }
            array.replaceSubrange(index * entrySize ..< index * entrySize + 128, with: slot.bytes)
        }
        let arrayCRC = CRC32.checksum(array)
        let lastLBA = UInt64(sectors - 1)
        let backupArrayLBA = lastLBA - UInt64(entryArraySectors)
        disk.write(array, at: 2 * sectorSize)
        disk.write(array, at: Int(backupArrayLBA) * sectorSize)
        disk.write(header(lba: 1, alternate: lastLBA, entriesLBA: 2, arrayCRC: arrayCRC), at: primaryHeaderOffset)
        disk.write(header(lba: lastLBA, alternate: 1, entriesLBA: backupArrayLBA, arrayCRC: arrayCRC), at: backupHeaderOffset)
        return disk
    }

    private func header(lba: UInt64, alternate: UInt64, entriesLBA: UInt64, arrayCRC: UInt32) -> [UInt8] {
        var header = MemoryDisk(size: 92)
        header.write(Array("EFI PART".utf8), at: 0)
        header.writeLE(UInt32(0x0001_0000), at: 8)
        header.writeLE(UInt32(92), at: 12)
        header.writeLE(lba, at: 24)
        header.writeLE(alternate, at: 32)
        header.writeLE(UInt64(2 + entryArraySectors), at: 40)
        header.writeLE(UInt64(sectors - 2 - entryArraySectors), at: 48)
        header.write(diskGUID, at: 56)
        header.writeLE(entriesLBA, at: 72)
        header.writeLE(UInt32(entryCount), at: 80)
        header.writeLE(UInt32(entrySize), at: 84)
        header.writeLE(arrayCRC, at: 88)
        header.writeLE(CRC32.checksum(header.bytes), at: 16)
        return header.bytes
    }

    /// Changes a header field in place and restores the header CRC, so that only the field is wrong.
    static func patchHeader<T: FixedWidthInteger>(_ disk: inout MemoryDisk, at headerOffset: Int, field: Int, _ value: T) {
        disk.writeLE(value, at: headerOffset + field)
        disk.writeLE(UInt32(0), at: headerOffset + 16)
        let size = min(Int(disk.bytes[headerOffset + 12]) | Int(disk.bytes[headerOffset + 13]) << 8, disk.bytes.count - headerOffset)
        disk.writeLE(CRC32.checksum(disk.bytes[headerOffset ..< headerOffset + size]), at: headerOffset + 16)
    }

    /// GUID text to its on-disk bytes (first three fields little-endian).
    static func guid(_ text: String) -> [UInt8] {
        let hex = Array(text.filter { $0 != "-" }.utf8)
        let bytes = stride(from: 0, to: 32, by: 2).map { UInt8(String(decoding: hex[$0 ..< $0 + 2], as: UTF8.self), radix: 16) ?? 0 }
        return [3, 2, 1, 0, 5, 4, 7, 6].map { bytes[$0] } + bytes[8...]
    }
}
