import BlockDevices
import ByteParsing

/// One metadata area of a physical volume (lib/format_text/layout.h): a 512-byte `mda_header`
/// (CRC, magic, version 1, its own start and size, then `raw_locn` entries), followed by a
/// circular buffer of text metadata. The first `raw_locn` is the committed copy: where its
/// text starts in the area, its length and its CRC. Text that reaches the area's end goes on
/// right after the header.
enum MetadataArea {
    static let headerSize = 512
    static let magic = Array(" LVM2 x[5A%r0N*>".utf8)
    static let version: UInt32 = 1
    /// `RAW_LOCN_IGNORED`: the copy is kept but LVM does not use it (`pvchange --metadataignore`).
    static let ignoredFlag: UInt32 = 1
    /// Metadata text longer than this is refused: real volume groups write tens of KiB.
    static let maxTextSize = 16 << 20

    /// The committed text of the area at `area` on `device`; nil for an area that holds none
    /// (a PV not in a volume group, or one whose copy is set to be ignored).
    static func read(_ device: some BlockDevice, area: PhysicalVolumeLabel.Area) throws(LVMError) -> [UInt8]? {
        let header = try bytes(device, at: area.offset, count: headerSize)
        let (areaSize, locations) = try parseHeader(header, at: area.offset)
        guard let location = locations.first, location.flags & ignoredFlag == 0, location.size > 0 else { return nil }
        guard area.size == 0 || areaSize <= area.size else {
            throw .label(.invalid(what: "metadata area size", at: area.offset + 32, reason: "\(areaSize) bytes, the label gives \(area.size)"))
        }
        let ring = areaSize - UInt64(headerSize)
        guard location.offset >= UInt64(headerSize), location.offset < areaSize, location.size <= ring,
              location.size <= UInt64(maxTextSize)
        else {
            throw .label(.invalid(what: "metadata location", at: area.offset + 40,
                                  reason: "\(location.size) bytes at \(location.offset) do not fit the \(areaSize)-byte area"))
        }
        // Both checked against `areaSize`, which the device read below bounds.
        let first = min(location.size, areaSize - location.offset)
        var text = try bytes(device, at: try add(area.offset, location.offset), count: Int(first))
        if first < location.size {
            text += try bytes(device, at: try add(area.offset, UInt64(headerSize)), count: Int(location.size - first))
        }
        let computed = CRC32.update(PhysicalVolumeLabel.initialCRC, with: text)
        guard computed == location.checksum else {
            throw .label(.invalid(what: "metadata text CRC", at: area.offset + 56,
                                  reason: "is 0x\(String(location.checksum, radix: 16)), the text gives 0x\(String(computed, radix: 16))"))
        }
        // LVM writes the text with its terminating NUL.
        while text.last == 0 { text.removeLast() }
        return text
    }

    struct Location {
        let offset: UInt64
        let size: UInt64
        let checksum: UInt32
        let flags: UInt32
    }

    /// The area's size and its `raw_locn` entries, from the header sector at `position`.
    static func parseHeader(_ bytes: [UInt8], at position: UInt64) throws(LVMError) -> (size: UInt64, locations: [Location]) {
        do throws(ByteParsingError) {
            var reader = ByteReader(bytes, origin: position)
            let checksum = try reader.u32("metadata area header CRC")
            let computed = CRC32.update(PhysicalVolumeLabel.initialCRC, with: bytes.dropFirst(4))
            guard checksum == computed else {
                throw ByteParsingError.invalid(what: "metadata area header CRC", at: position,
                                               reason: "is 0x\(String(checksum, radix: 16)), the header gives 0x\(String(computed, radix: 16))")
            }
            guard try reader.bytes(magic.count, "metadata area magic") == magic else {
                throw ByteParsingError.invalid(what: "metadata area magic", at: position + 4, reason: "not LVM2's")
            }
            let version = try reader.u32("metadata area version")
            guard version == Self.version else {
                throw ByteParsingError.invalid(what: "metadata area version", at: position + 20, reason: "\(version), not 1")
            }
            let start = try reader.u64("metadata area start")
            guard start == position else {
                throw ByteParsingError.invalid(what: "metadata area start", at: position + 24, reason: "records \(start)")
            }
            let size = try reader.u64("metadata area size")
            guard size > UInt64(headerSize) else {
                throw ByteParsingError.invalid(what: "metadata area size", at: position + 32, reason: "\(size) bytes, no room for text")
            }
            var locations: [Location] = []
            // The list ends with a zero offset or at the end of the sector.
            while reader.remaining >= 24 {
                let location = Location(offset: try reader.u64("metadata offset"), size: try reader.u64("metadata size"),
                                        checksum: try reader.u32("metadata CRC"), flags: try reader.u32("metadata flags"))
                if location.offset == 0 { break }
                locations.append(location)
            }
            return (size, locations)
        } catch {
            throw .label(error)
        }
    }

    private static func bytes(_ device: some BlockDevice, at offset: UInt64, count: Int) throws(LVMError) -> [UInt8] {
        do {
            try device.checkRange(offset, count)
            return try device.read(at: offset, count: count)
        } catch {
            throw .device(error)
        }
    }

    private static func add(_ a: UInt64, _ b: UInt64) throws(LVMError) -> UInt64 {
        do {
            return try Checked.add(a, b, "metadata position")
        } catch {
            throw .label(error)
        }
    }
}
