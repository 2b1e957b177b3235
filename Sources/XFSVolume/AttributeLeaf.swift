import ByteParsing

/// An attribute leaf block (struct xfs_attr_leafblock): after the header, `count` entries of
/// hash, name offset and flags; each name offset points at a local entry (value length, name
/// length, name, value) or a remote one (value block, value length, name length, name).
enum AttributeLeaf {
    static func attributes(_ bytes: [UInt8], origin: UInt64, headerSize: Int, countOffset: Int) throws(ByteParsingError) -> [RawAttribute] {
        let reader = ByteReader(bytes, origin: origin)
        let count = Int(try reader.bigEndian(at: countOffset, "entry count") as UInt16)
        guard count <= (bytes.count - headerSize) / 8 else {
            throw .invalid(what: "entry count", at: origin + UInt64(countOffset), reason: "\(count) entries do not fit the block")
        }
        var attributes: [RawAttribute] = []
        for index in 0 ..< count {
            let entry = headerSize + index * 8
            let nameOffset = Int(try reader.bigEndian(at: entry + 4, "name offset") as UInt16)
            let flags: UInt8 = try reader.integer(at: entry + 6, "flags")
            guard nameOffset >= headerSize + count * 8 else {
                throw .invalid(what: "name offset", at: origin + UInt64(entry + 4), reason: "\(nameOffset) points into the entry table")
            }
            if flags & RawAttribute.Flag.local != 0 {
                let valueLength = Int(try reader.bigEndian(at: nameOffset, "value length") as UInt16)
                let nameLength = Int(try reader.integer(at: nameOffset + 2, "name length") as UInt8)
                let name = try reader.bytes(at: nameOffset + 3, count: nameLength, "name")
                let value = try reader.bytes(at: nameOffset + 3 + nameLength, count: valueLength, "value")
                attributes.append(RawAttribute(flags: flags, name: name, value: .inline(value)))
            } else {
                let block: UInt32 = try reader.bigEndian(at: nameOffset, "value block")
                let length: UInt32 = try reader.bigEndian(at: nameOffset + 4, "value length")
                let nameLength = Int(try reader.integer(at: nameOffset + 8, "name length") as UInt8)
                let name = try reader.bytes(at: nameOffset + 9, count: nameLength, "name")
                attributes.append(RawAttribute(flags: flags, name: name, value: .remote(block: block, length: length)))
            }
        }
        return attributes
    }
}
