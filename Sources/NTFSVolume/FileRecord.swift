import ByteParsing

/// One MFT record ("FILE"): header fields and the attributes it holds. A base record holds a
/// file's first attributes; extension records (base reference non-zero) hold the rest, listed
/// by the base record's $ATTRIBUTE_LIST.
struct FileRecord: Sendable {
    static let inUse: UInt16 = 0x0001
    static let isDirectory: UInt16 = 0x0002

    let number: UInt64
    let sequence: UInt16
    let linkCount: UInt16
    let flags: UInt16
    let baseReference: FileReference
    let attributes: [AttributeRecord]

    var isInUse: Bool { flags & Self.inUse != 0 }

    /// Parses a raw record read from the MFT at volume byte `origin`, checking its
    /// signature and update sequence first.
    static func parse(_ raw: [UInt8], number: UInt64, origin: UInt64, clusterCount: UInt64) throws(ByteParsingError) -> FileRecord {
        var bytes = raw
        guard bytes.count >= 0x30, bytes.prefix(4).elementsEqual("FILE".utf8) else {
            throw .invalid(what: "MFT record \(number) signature", at: origin,
                           reason: "expected 'FILE', found \(Hex.encode(bytes.prefix(4)))")
        }
        try UpdateSequence.apply(&bytes, origin: origin, what: "MFT record \(number)")
        var reader = ByteReader(bytes, origin: origin)
        try reader.seek(to: 0x10)
        let sequence = try reader.u16("record sequence number")
        let linkCount = try reader.u16("record link count")
        let firstAttribute = Int(try reader.u16("first attribute offset"))
        let flags = try reader.u16("record flags")
        let usedSize = Int(try reader.u32("record used size"))
        try reader.skip(4, "record allocated size")
        let base = FileReference(raw: try reader.u64("base record reference"))
        guard usedSize <= bytes.count, usedSize >= 0x30 else {
            throw .invalid(what: "MFT record \(number) used size", at: origin + 0x18, reason: "\(usedSize) bytes in a \(bytes.count)-byte record")
        }
        guard firstAttribute >= 0x28, firstAttribute % 8 == 0, firstAttribute < usedSize else {
            throw .invalid(what: "MFT record \(number) first attribute offset", at: origin + 0x14, reason: "\(firstAttribute) (record uses \(usedSize) bytes)")
        }
        // Records written by Windows XP and later repeat their own number at 0x2C; a record
        // found at the wrong place was misdirected or damaged.
        let usaOffset = Int(try reader.integer(at: 4, "update sequence offset") as UInt16)
        if usaOffset >= 0x30 {
            let stored = UInt64(try reader.integer(at: 0x2C, "record number") as UInt32)
            guard stored == number & 0xFFFF_FFFF else {
                throw .invalid(what: "MFT record \(number) number", at: origin + 0x2C, reason: "the record says it is number \(stored)")
            }
        }
        var attributes: [AttributeRecord] = []
        var offset = firstAttribute
        // Each attribute takes at least 24 bytes, so the walk ends; the cap is a second guard.
        while attributes.count < usedSize / 0x18 {
            guard offset <= usedSize - 4 else {
                throw .invalid(what: "MFT record \(number) attributes", at: origin + UInt64(offset), reason: "no end marker before the used size \(usedSize)")
            }
            let type = try reader.integer(at: offset, "attribute type") as UInt32
            if type == AttributeType.end.rawValue { break }
            let attribute = try AttributeRecord.parse(bytes, at: offset, limit: usedSize, origin: origin, recordNumber: number, clusterCount: clusterCount)
            attributes.append(attribute)
            offset += Int(try reader.integer(at: offset + 4, "attribute length") as UInt32)
        }
        return FileRecord(number: number, sequence: sequence, linkCount: linkCount, flags: flags, baseReference: base, attributes: attributes)
    }
}
