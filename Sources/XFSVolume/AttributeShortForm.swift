import ByteParsing

/// An attribute as a fork stores it: namespace flags, name, and the value or where it lies.
struct RawAttribute: Sendable {
    enum Value: Sendable {
        case inline([UInt8])
        /// `length` bytes in the attribute fork from logical block `block`.
        case remote(block: UInt32, length: UInt32)
    }

    /// XFS_ATTR_* flags of an entry.
    enum Flag {
        static let local: UInt8 = 0x01
        static let root: UInt8 = 0x02
        static let secure: UInt8 = 0x04
        static let parent: UInt8 = 0x08
        static let incomplete: UInt8 = 0x80
    }

    let flags: UInt8
    let name: [UInt8]
    let value: Value
}

/// Attributes small enough to live in the inode (struct xfs_attr_sf_hdr): total size, count,
/// then entries of name length, value length, flags, name and value.
enum AttributeShortForm {
    static func attributes(_ fork: [UInt8], origin: UInt64) throws(ByteParsingError) -> [RawAttribute] {
        var header = ByteReader(fork, origin: origin)
        let total = Int(UInt16(bigEndian: try header.u16("total size")))
        guard total >= 4, total <= fork.count else {
            throw .invalid(what: "short-form attributes", at: origin, reason: "\(total) bytes in a \(fork.count)-byte fork")
        }
        var reader = ByteReader(Array(fork.prefix(total)), origin: origin)
        try reader.skip(2, "total size")
        let count = Int(try reader.u8("count"))
        try reader.skip(1, "padding")
        var attributes: [RawAttribute] = []
        // Each entry takes at least 3 bytes of the bounded fork: the count cannot outrun it.
        for _ in 0 ..< count {
            let nameLength = Int(try reader.u8("name length"))
            let valueLength = Int(try reader.u8("value length"))
            let flags = try reader.u8("flags")
            let name = try reader.bytes(nameLength, "name")
            let value = try reader.bytes(valueLength, "value")
            attributes.append(RawAttribute(flags: flags, name: name, value: .inline(value)))
        }
        return attributes
    }
}
