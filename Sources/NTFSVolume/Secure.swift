import BlockDevices
import ByteParsing
import Synchronization
import VolumeModel

/// Where $Secure keeps one descriptor: the $SII index maps a security id to this header of
/// its $SDS entry (hash, id, offset of the entry in $SDS, length including the header).
struct SecurityEntryHeader: Sendable, Equatable {
    static let size = 20

    let hash: UInt32
    let id: UInt32
    let offset: UInt64
    let length: UInt32

    static func parse(_ bytes: [UInt8], at position: Int, origin: UInt64, _ what: String) throws(ByteParsingError) -> SecurityEntryHeader {
        var reader = ByteReader(bytes, origin: origin)
        try reader.seek(to: position)
        return SecurityEntryHeader(hash: try reader.u32("\(what) hash"), id: try reader.u32("\(what) security id"),
                                   offset: try reader.u64("\(what) offset"), length: try reader.u32("\(what) length"))
    }

    /// A $SII entry's key (the security id, 4 bytes) and data (the header).
    static func indexKey(_ entry: [UInt8], _ keyLength: Int, _ at: UInt64) throws(ByteParsingError) -> SecurityEntryHeader {
        let reader = ByteReader(entry, origin: at)
        let dataOffset = Int(try reader.integer(at: 0, "$SII entry data offset") as UInt16)
        let dataLength = Int(try reader.integer(at: 2, "$SII entry data length") as UInt16)
        guard keyLength == 4, dataLength >= size, dataOffset >= 0x14, dataOffset <= entry.count - size else {
            throw .invalid(what: "$SII entry", at: at, reason: "\(keyLength)-byte key, \(dataLength)-byte data at \(dataOffset) in a \(entry.count)-byte entry")
        }
        let id = try reader.integer(at: 0x10, "$SII entry key") as UInt32
        let header = try parse(entry, at: dataOffset, origin: at, "$SII entry data")
        guard header.id == id else {
            throw .invalid(what: "$SII entry", at: at, reason: "key \(id) with data for security id \(header.id)")
        }
        return header
    }
}

extension NTFSVolume {
    static let secureRecord: UInt64 = 9
    static let siiName: [UInt16] = Array("$SII".utf16)
    static let sdsName: [UInt16] = Array("$SDS".utf16)

    /// The descriptor bytes $Secure keeps under `id`, from the cache or found through the
    /// $SII B-tree (keys ascend, so each node is searched for the first key not below `id`),
    /// then read from $SDS, whose entry must repeat the id and offset the index gave.
    func secureDescriptor(id: UInt32) throws(VolumeError) -> [UInt8] {
        if let cached = descriptors.withLock({ $0.value(for: id) }) { return cached }
        let context = "$Secure $SII"
        let secure = try file(Self.secureRecord)
        let tree = try indexTree(secure, named: Self.siiName, indexedType: 0, context, key: SecurityEntryHeader.indexKey)
        var entries = tree.root.entries
        var depth = 0
        var found: SecurityEntryHeader?
        while found == nil {
            // Every node ends with a key-less last entry (the parser requires it).
            guard let entry = entries.first(where: { $0.key.map { $0.id >= id } ?? true }) else {
                throw corrupt(context, "an index node without its last entry")
            }
            if let key = entry.key, key.id == id {
                found = key
                break
            }
            guard let subnode = entry.subnode else { throw corrupt(context, "security id \(id) is not in the index") }
            depth += 1
            guard depth <= Self.maxIndexDepth else { throw corrupt(context, "index deeper than \(Self.maxIndexDepth) levels (a loop?)") }
            entries = try indexRecord(tree, subnode)
        }
        guard let header = found else { throw corrupt(context, "security id \(id) is not in the index") }
        let descriptor = try sdsEntry(header, secure)
        descriptors.withLock { $0.insert(descriptor, for: id, weight: descriptor.count) }
        return descriptor
    }

    private func sdsEntry(_ header: SecurityEntryHeader, _ secure: NTFSFile) throws(VolumeError) -> [UInt8] {
        let context = "$Secure $SDS entry of security id \(header.id)"
        guard let sds = secure.streams.first(where: { $0.name == Self.sdsName })?.stream else {
            throw corrupt("$Secure", "no $SDS stream")
        }
        let length = UInt64(header.length)
        guard length > UInt64(SecurityEntryHeader.size), length - UInt64(SecurityEntryHeader.size) <= UInt64(SecurityDescriptor.maxSize),
              header.offset < sds.dataSize, length <= sds.dataSize - header.offset else {
            throw corrupt(context, "\(length) bytes at offset \(header.offset) do not fit the \(sds.dataSize)-byte $SDS")
        }
        let raw = try readBytes(sds, at: header.offset, count: Int(length), context)
        let stored: SecurityEntryHeader
        do {
            stored = try SecurityEntryHeader.parse(raw, at: 0, origin: header.offset, "$SDS entry")
        } catch {
            throw corrupt(context, at: deviceOffset(sds, header.offset), "\(error)")
        }
        guard stored.id == header.id, stored.offset == header.offset, stored.length == header.length else {
            throw corrupt(context, at: deviceOffset(sds, header.offset),
                          "the entry says security id \(stored.id), offset \(stored.offset), \(stored.length) bytes")
        }
        return Array(raw[SecurityEntryHeader.size...])
    }
}
