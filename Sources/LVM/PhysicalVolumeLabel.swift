import BlockDevices
import ByteParsing

/// An LVM2 physical-volume label (lib/format_text/layout.h): `label_header` ("LABELONE" in one
/// of the first four 512-byte sectors, the sector it is in, a CRC, where the PV header starts,
/// "LVM2 001"), then `pv_header`: the 32-character PV UUID, the device size, and two lists of
/// (offset, size) byte ranges ending with a zero offset: the data areas, then the metadata areas.
public struct PhysicalVolumeLabel: Sendable, Equatable {
    public struct Area: Sendable, Equatable {
        /// Bytes from the start of the physical volume.
        public let offset: UInt64
        /// Bytes; 0 for a data area means "to the end of the device".
        public let size: UInt64
    }

    static let sectorSize = 512
    static let labelMagic = Array("LABELONE".utf8)
    static let typeMagic = Array("LVM2 001".utf8)
    /// LVM2's `INITIAL_CRC`: the register its `calc_crc` starts from.
    static let initialCRC: UInt32 = 0xF597_A6CF
    /// The label's CRC covers the sector from its `offset_xl` field to the end.
    static let checksummedFrom = 20
    static let uuidLength = 32
    /// Each list ends within the sector, so it holds at most this many entries.
    static let maxAreas = 16

    /// "hz5zok-ZSq8-1h3I-2gLg-95I4-d7e0-Wli5gb", as the metadata text and `pvs` write it.
    public let uuid: String
    public let deviceSize: UInt64
    public let dataAreas: [Area]
    public let metadataAreas: [Area]

    /// The label of `device`, nil when none of its first four sectors holds one.
    public static func read(_ device: some BlockDevice) throws(LVMError) -> PhysicalVolumeLabel? {
        let count = Int(min(device.size, UInt64(4 * sectorSize)))
        let head: [UInt8]
        do {
            head = try device.read(at: 0, count: count)
        } catch {
            throw .device(error)
        }
        return try parse(head)
    }

    /// Parses the first sectors of a device (up to four, fewer when it is that small): nil
    /// when none holds a label of its own, an error when the one found is damaged.
    public static func parse(_ head: [UInt8]) throws(LVMError) -> PhysicalVolumeLabel? {
        for sector in 0 ..< 4 {
            let base = sector * sectorSize
            guard base + sectorSize <= head.count,
                  Array(head[base ..< base + labelMagic.count]) == labelMagic,
                  // The label records its own sector: a PV inside a partition is not this device's.
                  (try? ByteReader(head).integer(at: base + 8, "label sector") as UInt64) == UInt64(sector)
            else { continue }
            do {
                return try parse(sector: Array(head[base ..< base + sectorSize]), number: sector)
            } catch {
                throw .label(error)
            }
        }
        return nil
    }

    private static func parse(sector bytes: [UInt8], number: Int) throws(ByteParsingError) -> PhysicalVolumeLabel {
        let origin = UInt64(number * sectorSize)
        var reader = ByteReader(bytes, origin: origin)
        try reader.skip(labelMagic.count + 8, "label magic and sector")
        let checksum = try reader.u32("label CRC")
        let computed = CRC32.update(initialCRC, with: bytes[checksummedFrom...])
        guard checksum == computed else {
            throw .invalid(what: "label CRC", at: origin + 16, reason: "is 0x\(String(checksum, radix: 16)), the sector gives 0x\(String(computed, radix: 16))")
        }
        let headerOffset = Int(try reader.u32("PV header offset"))
        guard try reader.bytes(typeMagic.count, "label type") == typeMagic else {
            throw .invalid(what: "label type", at: origin + 24, reason: "not \"LVM2 001\"")
        }
        try reader.seek(to: headerOffset)
        let uuid = try PhysicalVolumeLabel.uuid(try reader.bytes(uuidLength, "PV UUID"), at: reader.origin + UInt64(headerOffset))
        let deviceSize = try reader.u64("device size")
        let data = try areas(&reader, "data area")
        let metadata = try areas(&reader, "metadata area")
        return PhysicalVolumeLabel(uuid: uuid, deviceSize: deviceSize, dataAreas: data, metadataAreas: metadata)
    }

    /// A list of `disk_locn` entries, up to the one with offset 0.
    private static func areas(_ reader: inout ByteReader, _ what: String) throws(ByteParsingError) -> [Area] {
        var areas: [Area] = []
        while true {
            let offset = try reader.u64("\(what) offset")
            let size = try reader.u64("\(what) size")
            if offset == 0 { return areas }
            guard areas.count < maxAreas else {
                throw .invalid(what: "\(what) list", at: reader.origin + UInt64(reader.offset), reason: "more than \(maxAreas) entries")
            }
            areas.append(Area(offset: offset, size: size))
        }
    }

    /// An ASCII letter or digit: all LVM writes in a UUID, besides the dashes between groups.
    static func isUUIDByte(_ byte: UInt8) -> Bool {
        (0x30 ... 0x39).contains(byte) || (0x41 ... 0x5A).contains(byte) || (0x61 ... 0x7A).contains(byte)
    }

    /// The 32 characters in LVM's groups of 6-4-4-4-4-4-6.
    static func uuid(_ raw: [UInt8], at position: UInt64) throws(ByteParsingError) -> String {
        guard raw.count == uuidLength, raw.allSatisfy(isUUIDByte) else {
            throw .invalid(what: "PV UUID", at: position, reason: "not 32 letters and digits")
        }
        var groups: [String] = []
        var start = 0
        for length in [6, 4, 4, 4, 4, 4, 6] {
            groups.append(String(decoding: raw[start ..< start + length], as: UTF8.self))
            start += length
        }
        return groups.joined(separator: "-")
    }
}
