import ByteParsing

/// Attribute type codes ($AttrDef).
enum AttributeType: UInt32, Sendable {
    case standardInformation = 0x10
    case attributeList = 0x20
    case fileName = 0x30
    case objectID = 0x40
    case securityDescriptor = 0x50
    case volumeName = 0x60
    case volumeInformation = 0x70
    case data = 0x80
    case indexRoot = 0x90
    case indexAllocation = 0xA0
    case bitmap = 0xB0
    case reparsePoint = 0xC0
    case end = 0xFFFF_FFFF
}

/// Attribute header flags.
enum AttributeFlags {
    static let compressionMask: UInt16 = 0x00FF
    static let encrypted: UInt16 = 0x4000
    static let sparse: UInt16 = 0x8000
}

/// One attribute as stored in one MFT record: a resident value, or one extent (a VCN range)
/// of a non-resident stream.
struct AttributeRecord: Sendable {
    struct NonResident: Sendable {
        let lowestVCN: VCN
        let highestVCN: VCN
        /// log2 of clusters per compression unit; 0 when not compressed.
        let compressionUnitShift: UInt16
        let allocatedSize: UInt64
        let dataSize: UInt64
        let initializedSize: UInt64
        /// Clusters actually allocated, present for compressed and sparse attributes.
        let compressedSize: UInt64?
        let runs: [DataRun]
    }

    enum Body: Sendable {
        case resident([UInt8])
        case nonResident(NonResident)
    }

    let typeCode: UInt32
    let name: [UInt16]
    let flags: UInt16
    let id: UInt16
    let body: Body
    /// The MFT record the attribute was found in.
    let recordNumber: UInt64

    var type: AttributeType? { AttributeType(rawValue: typeCode) }
    var isCompressed: Bool { flags & AttributeFlags.compressionMask != 0 }
    var isEncrypted: Bool { flags & AttributeFlags.encrypted != 0 }

    static let i30: [UInt16] = Array("$I30".utf16)

    /// Parses the attribute at `offset` of a fixed-up record, bounded by `limit` (the
    /// record's used size).
    static func parse(_ record: [UInt8], at offset: Int, limit: Int, origin: UInt64, recordNumber: UInt64,
                      clusterCount: UInt64) throws(ByteParsingError) -> AttributeRecord {
        let at = origin + UInt64(offset)
        let length = Int(try ByteReader(record, origin: origin).integer(at: offset + 4, "attribute length") as UInt32)
        guard length >= 0x18, length % 8 == 0, length <= limit - offset else {
            throw .invalid(what: "attribute length", at: at + 4, reason: "\(length) bytes at record offset \(offset) (record uses \(limit))")
        }
        let bytes = Array(record[offset ..< offset + length])
        var reader = ByteReader(bytes, origin: at)
        let typeCode = try reader.u32("attribute type")
        try reader.skip(4, "attribute length")
        let nonResident = try reader.u8("attribute non-resident flag")
        let nameLength = Int(try reader.u8("attribute name length"))
        let nameOffset = Int(try reader.u16("attribute name offset"))
        let flags = try reader.u16("attribute flags")
        let id = try reader.u16("attribute id")
        guard nameLength == 0 || nameOffset + 2 * nameLength <= length else {
            throw .invalid(what: "attribute name", at: at + 0x0A, reason: "\(nameLength) characters at offset \(nameOffset) run past the \(length)-byte attribute")
        }
        let name = nameLength == 0 ? [] : try UTF16Text.units(bytes, at: nameOffset, count: nameLength, origin: at, "attribute name")
        let body: Body
        switch nonResident {
        case 0:
            let valueLength = Int(try reader.u32("resident value length"))
            let valueOffset = Int(try reader.u16("resident value offset"))
            guard valueOffset >= 0x18, valueOffset <= length, valueLength <= length - valueOffset else {
                throw .invalid(what: "resident value", at: at + 0x10, reason: "\(valueLength) bytes at offset \(valueOffset) run past the \(length)-byte attribute")
            }
            body = .resident(Array(bytes[valueOffset ..< valueOffset + valueLength]))
        case 1:
            guard length >= 0x40 else {
                throw .invalid(what: "attribute length", at: at + 4, reason: "\(length) bytes is too short for a non-resident attribute")
            }
            let lowest = try reader.u64("lowest VCN")
            let highest = try reader.u64("highest VCN")
            let runsOffset = Int(try reader.u16("mapping pairs offset"))
            let unitShift = try reader.u16("compression unit")
            try reader.skip(4, "padding")
            let allocated = try reader.u64("allocated size")
            let dataSize = try reader.u64("data size")
            let initialized = try reader.u64("initialized size")
            var compressed: UInt64?
            if unitShift != 0 || flags & (AttributeFlags.compressionMask | AttributeFlags.sparse) != 0, length >= 0x48, runsOffset >= 0x48 {
                compressed = try reader.u64("compressed size")
            }
            // Sizes are signed 64-bit on disk; anything above Int64.max is corruption and
            // would overflow later arithmetic.
            guard dataSize <= UInt64(Int64.max), allocated <= UInt64(Int64.max) else {
                throw .invalid(what: "attribute sizes", at: at + 0x28, reason: "data size \(dataSize), allocated \(allocated)")
            }
            guard unitShift <= 8 else {
                throw .invalid(what: "compression unit", at: at + 0x22, reason: "2^\(unitShift) clusters per unit")
            }
            guard runsOffset >= 0x40, runsOffset <= length else {
                throw .invalid(what: "mapping pairs offset", at: at + 0x20, reason: "\(runsOffset) in a \(length)-byte attribute")
            }
            let runs = try DataRuns.parse(Array(bytes[runsOffset...]), origin: at + UInt64(runsOffset),
                                          lowest: VCN(lowest), highest: VCN(highest), clusterCount: clusterCount)
            body = .nonResident(NonResident(lowestVCN: VCN(lowest), highestVCN: VCN(highest), compressionUnitShift: unitShift,
                                            allocatedSize: allocated, dataSize: dataSize, initializedSize: initialized,
                                            compressedSize: compressed, runs: runs))
        default:
            throw .invalid(what: "attribute non-resident flag", at: at + 8, reason: "\(nonResident) is neither 0 nor 1")
        }
        return AttributeRecord(typeCode: typeCode, name: name, flags: flags, id: id, body: body, recordNumber: recordNumber)
    }

}
