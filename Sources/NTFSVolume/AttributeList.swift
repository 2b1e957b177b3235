import ByteParsing

/// $ATTRIBUTE_LIST: where each attribute (or each extent of a non-resident one) of a file
/// lives when they do not fit in the base record.
struct AttributeListEntry: Sendable, Equatable {
    let typeCode: UInt32
    let name: [UInt16]
    let lowestVCN: VCN
    let record: FileReference
    let attributeID: UInt16

    /// Longest list accepted (a file with ~100,000 extents; real lists are a few KiB).
    static let maxListSize = 4 << 20

    static func parse(_ value: [UInt8], origin: UInt64) throws(ByteParsingError) -> [AttributeListEntry] {
        var entries: [AttributeListEntry] = []
        var offset = 0
        // Every entry is at least 0x1A bytes, so the walk ends.
        while offset < value.count {
            let at = origin + UInt64(offset)
            var reader = ByteReader(value, origin: origin)
            try reader.seek(to: offset)
            let type = try reader.u32("attribute list entry type")
            let length = Int(try reader.u16("attribute list entry length"))
            let nameLength = Int(try reader.u8("attribute list name length"))
            let nameOffset = Int(try reader.u8("attribute list name offset"))
            guard length >= 0x1A, length <= value.count - offset else {
                throw .invalid(what: "attribute list entry length", at: at + 4, reason: "\(length) bytes with \(value.count - offset) left")
            }
            guard nameLength == 0 || nameOffset + 2 * nameLength <= length else {
                throw .invalid(what: "attribute list entry name", at: at + 6, reason: "\(nameLength) characters at \(nameOffset) in a \(length)-byte entry")
            }
            let lowest = try reader.u64("attribute list lowest VCN")
            let record = FileReference(raw: try reader.u64("attribute list record reference"))
            let id = try reader.u16("attribute list attribute id")
            let name = nameLength == 0 ? [] : try UTF16Text.units(value, at: offset + nameOffset, count: nameLength, origin: origin, "attribute list entry name")
            entries.append(AttributeListEntry(typeCode: type, name: name, lowestVCN: VCN(lowest), record: record, attributeID: id))
            offset += length
        }
        return entries
    }
}
