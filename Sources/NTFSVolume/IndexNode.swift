import ByteParsing

/// One entry of an index node: its first 8 bytes (a file reference in $I30; data offset and
/// length in view indexes such as $SII), its key (nil for the last entry, which only points at
/// the child with the largest keys), and the VCN of the child node holding the keys that sort
/// before it.
struct IndexEntry<Key: Sendable>: Sendable {
    static var hasSubnode: UInt16 { 0x0001 }
    static var isLast: UInt16 { 0x0002 }

    let head: UInt64
    let key: Key?
    let subnode: VCN?
}

extension IndexEntry where Key == FileNameAttribute {
    var file: FileReference { FileReference(raw: head) }
}

/// Reads one entry's key: the whole entry's bytes (header at 0, key at 0x10), the key's
/// length, and where the entry lies for error positions.
typealias IndexKeyParser<Key> = (_ entry: [UInt8], _ keyLength: Int, _ at: UInt64) throws(ByteParsingError) -> Key

/// $INDEX_ROOT (in the record) and INDX records (in $INDEX_ALLOCATION) share the index
/// header: entries offset, used length, allocated length, flags; offsets relative to it.
enum IndexNode {
    /// Entries of the node whose index header starts at `headerOffset` in `bytes`.
    static func entries<Key>(_ bytes: [UInt8], headerOffset: Int, origin: UInt64, _ what: String,
                             key parseKey: IndexKeyParser<Key>) throws(ByteParsingError) -> [IndexEntry<Key>] {
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
        var entries: [IndexEntry<Key>] = []
        while true {
            let at = origin + UInt64(offset)
            guard offset <= end - 0x10 else {
                throw .invalid(what: "\(what) index entries", at: at, reason: "no last entry before the end of the node")
            }
            try reader.seek(to: offset)
            let head = try reader.u64("index entry file reference")
            let length = Int(try reader.u16("index entry length"))
            let keyLength = Int(try reader.u16("index entry key length"))
            let flags = try reader.u16("index entry flags")
            guard length >= 0x10, length % 8 == 0, length <= end - offset else {
                throw .invalid(what: "\(what) index entry length", at: at + 8, reason: "\(length) bytes with \(end - offset) left in the node")
            }
            let last = flags & IndexEntry<Key>.isLast != 0
            let subnodeSpace = flags & IndexEntry<Key>.hasSubnode != 0 ? 8 : 0
            guard 0x10 + keyLength + subnodeSpace <= length else {
                throw .invalid(what: "\(what) index entry key length", at: at + 10, reason: "\(keyLength)-byte key in a \(length)-byte entry")
            }
            var subnode: VCN?
            if subnodeSpace != 0 {
                subnode = VCN(try reader.integer(at: offset + length - 8, "index entry subnode VCN") as UInt64)
            }
            let key = last ? nil : try parseKey(Array(bytes[offset ..< offset + length]), keyLength, at)
            entries.append(IndexEntry(head: head, key: key, subnode: subnode))
            if last { return entries }
            offset += length
        }
    }

    /// A $I30 entry's key: the $FILE_NAME of the file it names.
    static func fileNameKey(_ entry: [UInt8], _ keyLength: Int, _ at: UInt64) throws(ByteParsingError) -> FileNameAttribute {
        guard keyLength >= 0x42 else {
            throw .invalid(what: "index entry key length", at: at + 10, reason: "\(keyLength) bytes is too short for a file name")
        }
        return try FileNameAttribute.parse(Array(entry[0x10 ..< 0x10 + keyLength]), origin: at + 0x10)
    }

    /// The header of $INDEX_ROOT: what it indexes and how large its INDX records are.
    struct Root<Key: Sendable>: Sendable {
        let indexedType: UInt32
        let recordSize: UInt64
        let entries: [IndexEntry<Key>]
    }

    /// $INDEX_ROOT of an index over attribute type `indexedType` (0 for view indexes such as
    /// $SII, which index no attribute).
    static func root<Key>(_ value: [UInt8], origin: UInt64, indexedType: UInt32,
                          key parseKey: IndexKeyParser<Key>) throws(ByteParsingError) -> Root<Key> {
        var reader = ByteReader(value, origin: origin)
        let type = try reader.u32("index root attribute type")
        try reader.skip(4, "collation rule")
        let size = UInt64(try reader.u32("index record size"))
        guard type == indexedType else {
            throw .invalid(what: "index root", at: origin, reason: "indexes attribute type 0x\(String(type, radix: 16)), not 0x\(String(indexedType, radix: 16))")
        }
        guard BootSector.recordSizeRange.contains(size), size.nonzeroBitCount == 1 else {
            throw .invalid(what: "index record size", at: origin + 8, reason: "\(size) is not a power of two in \(BootSector.recordSizeRange)")
        }
        return Root(indexedType: type, recordSize: size, entries: try entries(value, headerOffset: 0x10, origin: origin, "index root", key: parseKey))
    }

    /// An INDX record read from $INDEX_ALLOCATION at `vcn`: signature, fixups, own VCN.
    static func record<Key>(_ raw: [UInt8], vcn: VCN, origin: UInt64, key parseKey: IndexKeyParser<Key>) throws(ByteParsingError) -> [IndexEntry<Key>] {
        var bytes = raw
        guard bytes.count >= 0x28, bytes.prefix(4).elementsEqual("INDX".utf8) else {
            throw .invalid(what: "index record at \(vcn) signature", at: origin, reason: "expected 'INDX', found \(Hex.encode(bytes.prefix(4)))")
        }
        try UpdateSequence.apply(&bytes, origin: origin, what: "index record at \(vcn)")
        let stored = try ByteReader(bytes, origin: origin).integer(at: 0x10, "index record VCN") as UInt64
        guard stored == vcn.value else {
            throw .invalid(what: "index record VCN", at: origin + 0x10, reason: "the record at \(vcn) says it is VCN \(stored)")
        }
        return try entries(bytes, headerOffset: 0x18, origin: origin, "index record at \(vcn)", key: parseKey)
    }
}
