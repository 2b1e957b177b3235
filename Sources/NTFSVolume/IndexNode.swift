import ByteParsing

/// One entry of a $I30 directory index node: a file reference, its $FILE_NAME as the key,
/// and the VCN of the child node holding the names that sort before it.
struct IndexEntry: Sendable {
    static let hasSubnode: UInt16 = 0x0001
    static let isLast: UInt16 = 0x0002

    let file: FileReference
    /// Nil for the last entry, which only points at the child with the largest names.
    let key: FileNameAttribute?
    let subnode: VCN?
}

/// $INDEX_ROOT (in the record) and INDX records (in $INDEX_ALLOCATION) share the index
/// header: entries offset, used length, allocated length, flags; offsets relative to it.
enum IndexNode {
    /// Entries of the node whose index header starts at `headerOffset` in `bytes`.
    static func entries(_ bytes: [UInt8], headerOffset: Int, origin: UInt64, _ what: String) throws(ByteParsingError) -> [IndexEntry] {
        var reader = ByteReader(bytes, origin: origin)
        try reader.seek(to: headerOffset)
        let entriesOffset = Int(try reader.u32("\(what) entries offset"))
        let usedLength = Int(try reader.u32("\(what) index length"))
        guard entriesOffset >= 0x10, entriesOffset <= usedLength, usedLength <= bytes.count - headerOffset else {
            throw .invalid(what: "\(what) index header", at: origin + UInt64(headerOffset),
                           reason: "entries at \(entriesOffset), length \(usedLength), \(bytes.count - headerOffset) bytes available")
        }
        let end = headerOffset + usedLength
        var offset = headerOffset + entriesOffset
        var entries: [IndexEntry] = []
        while true {
            let at = origin + UInt64(offset)
            guard offset <= end - 0x10 else {
                throw .invalid(what: "\(what) index entries", at: at, reason: "no last entry before the end of the node")
            }
            try reader.seek(to: offset)
            let file = FileReference(raw: try reader.u64("index entry file reference"))
            let length = Int(try reader.u16("index entry length"))
            let keyLength = Int(try reader.u16("index entry key length"))
            let flags = try reader.u16("index entry flags")
            guard length >= 0x10, length % 8 == 0, length <= end - offset else {
                throw .invalid(what: "\(what) index entry length", at: at + 8, reason: "\(length) bytes with \(end - offset) left in the node")
            }
            let last = flags & IndexEntry.isLast != 0
            let subnodeSpace = flags & IndexEntry.hasSubnode != 0 ? 8 : 0
            guard 0x10 + keyLength + subnodeSpace <= length else {
                throw .invalid(what: "\(what) index entry key length", at: at + 10, reason: "\(keyLength)-byte key in a \(length)-byte entry")
            }
            var subnode: VCN?
            if subnodeSpace != 0 {
                subnode = VCN(try reader.integer(at: offset + length - 8, "index entry subnode VCN") as UInt64)
            }
            var key: FileNameAttribute?
            if !last {
                guard keyLength >= 0x42 else {
                    throw .invalid(what: "\(what) index entry key length", at: at + 10, reason: "\(keyLength) bytes is too short for a file name")
                }
                key = try FileNameAttribute.parse(Array(bytes[offset + 0x10 ..< offset + 0x10 + keyLength]), origin: at + 0x10)
            }
            entries.append(IndexEntry(file: file, key: key, subnode: subnode))
            if last { return entries }
            offset += length
        }
    }

    /// The header of $INDEX_ROOT: what it indexes and how large its INDX records are.
    struct Root: Sendable {
        let indexedType: UInt32
        let recordSize: UInt64
        let entries: [IndexEntry]
    }

    static func root(_ value: [UInt8], origin: UInt64) throws(ByteParsingError) -> Root {
        var reader = ByteReader(value, origin: origin)
        let type = try reader.u32("index root attribute type")
        try reader.skip(4, "collation rule")
        let size = UInt64(try reader.u32("index record size"))
        guard type == AttributeType.fileName.rawValue else {
            throw .invalid(what: "index root", at: origin, reason: "indexes attribute type 0x\(String(type, radix: 16)), not file names")
        }
        guard BootSector.recordSizeRange.contains(size), size.nonzeroBitCount == 1 else {
            throw .invalid(what: "index record size", at: origin + 8, reason: "\(size) is not a power of two in \(BootSector.recordSizeRange)")
        }
        return Root(indexedType: type, recordSize: size, entries: try entries(value, headerOffset: 0x10, origin: origin, "index root"))
    }

    /// An INDX record read from $INDEX_ALLOCATION at `vcn`: signature, fixups, own VCN.
    static func record(_ raw: [UInt8], vcn: VCN, origin: UInt64) throws(ByteParsingError) -> [IndexEntry] {
        var bytes = raw
        guard bytes.count >= 0x28, bytes.prefix(4).elementsEqual("INDX".utf8) else {
            throw .invalid(what: "index record at \(vcn) signature", at: origin, reason: "expected 'INDX', found \(Hex.encode(bytes.prefix(4)))")
        }
        try UpdateSequence.apply(&bytes, origin: origin, what: "index record at \(vcn)")
        let stored = try ByteReader(bytes, origin: origin).integer(at: 0x10, "index record VCN") as UInt64
        guard stored == vcn.value else {
            throw .invalid(what: "index record VCN", at: origin + 0x10, reason: "the record at \(vcn) says it is VCN \(stored)")
        }
        return try entries(bytes, headerOffset: 0x18, origin: origin, "index record at \(vcn)")
    }
}
