import ByteParsing

/// One VBLK record: the objects of a disk group's configuration, linked by object id. Sizes
/// and offsets are in sectors.
public enum Record: Sendable, Hashable {
    public struct Volume: Sendable, Hashable {
        public let id: UInt32
        public let name: String
        /// "gen" (simple, spanned, striped, mirrored) or "raid5".
        public let kind: String
        public let isRAID5: Bool
        public let componentCount: UInt32
        public let size: UInt64
        /// The partition type byte Windows gives the volume (0x07 for NTFS).
        public let partitionType: UInt8
        public let guid: String
        /// The drive letter Windows last gave it ("E:"), when recorded.
        public let driveHint: String?
    }

    public struct Component: Sendable, Hashable {
        public enum Layout: UInt8, Sendable {
            case striped = 1, concatenated = 2, raid5 = 3
        }

        public let id: UInt32
        public let name: String
        public let layout: Layout
        public let partitionCount: UInt32
        public let volume: UInt32
        /// Stripe size of a striped or RAID-5 component; 0 otherwise.
        public let chunkSize: UInt64
        public let columns: UInt32
    }

    public struct Partition: Sendable, Hashable {
        public let id: UInt32
        public let name: String
        /// From the disk's logical disk start.
        public let start: UInt64
        /// Where it lies in its component (a spanned volume's order).
        public let volumeOffset: UInt64
        public let size: UInt64
        public let component: UInt32
        public let disk: UInt32
        /// Its column in a striped or RAID-5 component.
        public let index: UInt32
    }

    public struct Disk: Sendable, Hashable {
        public let id: UInt32
        public let name: String
        public let guid: String
    }

    case volume(Volume)
    case component(Component)
    case partition(Partition)
    case disk(Disk)
    case diskGroup(id: UInt32, name: String)

    /// Parses a record from its reassembled data (after the 16-byte VBLK header); nil for a
    /// blank one.
    static func parse(_ data: ByteReader) throws(ByteParsingError) -> Record? {
        var reader = data
        _ = try reader.u16("VBLK status")
        let flags = try reader.u8("VBLK flags")
        let typeByte = try reader.u8("VBLK type")
        _ = try reader.u32("VBLK size")
        let type = typeByte & 0x0F
        let revision = typeByte >> 4
        let start = reader.origin + UInt64(reader.offset)
        func unsupported() -> ByteParsingError {
            .invalid(what: "VBLK", at: start, reason: "type \(type) revision \(revision) is not one LDM writes")
        }
        switch (type, revision) {
        case (0, _): return nil
        case (1, 5): return .volume(try volume(&reader, flags: flags))
        case (2, 3): return .component(try component(&reader, flags: flags))
        case (3, 3): return .partition(try partition(&reader, flags: flags))
        case (4, 3), (4, 4):
            let id: UInt32 = try reader.variableNumber("disk id")
            let name = try reader.variableText("disk name")
            let guid: String
            if revision == 3 {
                let text = try reader.variableText("disk GUID")
                guard GUIDText.isValid(text) else { throw .invalid(what: "disk GUID", at: start, reason: "not a GUID") }
                guid = text.lowercased()
            } else {
                guid = GUIDText.format(try reader.bytes(16, "disk GUID"))
            }
            return .disk(Disk(id: id, name: name, guid: guid))
        case (5, 3), (5, 4):
            return .diskGroup(id: try reader.variableNumber("disk group id"), name: try reader.variableText("disk group name"))
        default:
            throw unsupported()
        }
    }

    private static func volume(_ reader: inout ByteReader, flags: UInt8) throws(ByteParsingError) -> Volume {
        let id: UInt32 = try reader.variableNumber("volume id")
        let name = try reader.variableText("volume name")
        let kind = try reader.variableText("volume type")
        _ = try reader.variableText("volume unknown field")
        try reader.skip(14, "volume state")
        let internalType = try reader.u8("volume type code")
        // 3 is "gen", 4 "raid5".
        guard internalType == 3 || internalType == 4 else {
            throw .invalid(what: "volume \(name) type", at: reader.origin + UInt64(reader.offset - 1), reason: "\(internalType)")
        }
        try reader.skip(6, "volume number and flags")
        let components: UInt32 = try reader.variableNumber("volume component count")
        try reader.skip(16, "volume commit and id")
        let size: UInt64 = try reader.variableNumber("volume size")
        try reader.skip(4, "volume zeroes")
        let partitionType = try reader.u8("volume partition type")
        let guid = GUIDText.format(try reader.bytes(16, "volume GUID"))
        if flags & 0x08 != 0 { _ = try reader.variableText("volume id 1") }
        if flags & 0x20 != 0 { _ = try reader.variableText("volume id 2") }
        if flags & 0x80 != 0 { _ = try reader.variableNumber("volume size 2") as UInt64 }
        let hint = flags & 0x02 != 0 ? try reader.variableText("volume drive hint") : nil
        return Volume(id: id, name: name, kind: kind, isRAID5: internalType == 4, componentCount: components, size: size,
                      partitionType: partitionType, guid: guid, driveHint: hint)
    }

    private static func component(_ reader: inout ByteReader, flags: UInt8) throws(ByteParsingError) -> Component {
        let id: UInt32 = try reader.variableNumber("component id")
        let name = try reader.variableText("component name")
        _ = try reader.variableText("component state")
        let position = reader.origin + UInt64(reader.offset)
        guard let layout = Component.Layout(rawValue: try reader.u8("component type")) else {
            throw .invalid(what: "component \(name) type", at: position, reason: "not striped, spanned or RAID-5")
        }
        try reader.skip(4, "component zeroes")
        let parts: UInt32 = try reader.variableNumber("component partition count")
        try reader.skip(16, "component commit and zeroes")
        let volume: UInt32 = try reader.variableNumber("component volume id")
        try reader.skip(1, "component zero")
        var chunk: UInt64 = 0
        var columns: UInt32 = 0
        if flags & 0x10 != 0 {
            chunk = try reader.variableNumber("component stripe size")
            columns = try reader.variableNumber("component columns")
        }
        return Component(id: id, name: name, layout: layout, partitionCount: parts, volume: volume, chunkSize: chunk, columns: columns)
    }

    private static func partition(_ reader: inout ByteReader, flags: UInt8) throws(ByteParsingError) -> Partition {
        let id: UInt32 = try reader.variableNumber("partition id")
        let name = try reader.variableText("partition name")
        try reader.skip(12, "partition zeroes and commit")
        let start: UInt64 = try reader.bigEndian("partition start")
        let offset: UInt64 = try reader.bigEndian("partition volume offset")
        let size: UInt64 = try reader.variableNumber("partition size")
        let component: UInt32 = try reader.variableNumber("partition component id")
        let disk: UInt32 = try reader.variableNumber("partition disk id")
        let index: UInt32 = flags & 0x08 != 0 ? try reader.variableNumber("partition column") : 0
        return Partition(id: id, name: name, start: start, volumeOffset: offset, size: size, component: component, disk: disk, index: index)
    }
}
