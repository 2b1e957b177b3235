import ByteParsing

/// One 128-byte GPT partition entry (UEFI spec 5.3.3); larger entries only add reserved bytes.
struct GPTEntry {
    static let nameUnits = 36

    let typeGUID: [UInt8]
    let uniqueGUID: [UInt8]
    let firstLBA: UInt64
    /// Inclusive.
    let lastLBA: UInt64
    let attributes: UInt64
    /// UTF-16LE up to the first NUL: tools leave garbage after it.
    let name: String?

    var isUnused: Bool { typeGUID.allSatisfy { $0 == 0 } }

    init(_ reader: ByteReader, at base: Int) throws(ByteParsingError) {
        typeGUID = try reader.bytes(at: base, count: 16, "partition type GUID")
        uniqueGUID = try reader.bytes(at: base + 16, count: 16, "unique partition GUID")
        firstLBA = try reader.integer(at: base + 32, "first LBA")
        lastLBA = try reader.integer(at: base + 40, "last LBA")
        attributes = try reader.integer(at: base + 48, "attributes")
        var units: [UInt16] = []
        for index in 0 ..< Self.nameUnits {
            let unit: UInt16 = try reader.integer(at: base + 56 + 2 * index, "partition name")
            if unit == 0 { break }
            units.append(unit)
        }
        name = units.isEmpty ? nil : String(decoding: units, as: UTF16.self)
    }
}
