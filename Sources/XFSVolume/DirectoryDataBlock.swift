import ByteParsing

/// A name as a directory stores it, before it is checked.
struct RawDirectoryEntry: Sendable {
    let name: [UInt8]
    let inode: UInt64
    /// The ftype byte (XFS_DIR3_FT_*), 0 when unknown or not stored.
    let fileType: UInt8
}

/// The entries of one directory data block (the block of a single-block directory or a data
/// block of a larger one): after the header, entries (8-byte inode number, name length,
/// name, file type, padding to 8 bytes, a 2-byte tag pointing back at the entry) and unused
/// spans (0xFFFF, their length, a tag). A single-block directory ends in its hash leaf and a
/// tail counting it.
enum DirectoryDataBlock {
    static let freeTag: UInt16 = 0xFFFF

    static func entries(_ bytes: [UInt8], origin: UInt64, headerSize: Int, isSingleBlock: Bool, hasFileType: Bool) throws(ByteParsingError) -> [RawDirectoryEntry] {
        let reader = ByteReader(bytes, origin: origin)
        func invalid(_ at: Int, _ reason: String) -> ByteParsingError { .invalid(what: "directory entry", at: origin + UInt64(at), reason: reason) }
        var end = bytes.count
        if isSingleBlock {
            let count = Int(try reader.bigEndian(at: bytes.count - 8, "leaf count") as UInt32)
            guard count <= (bytes.count - headerSize - 8) / 8 else {
                throw .invalid(what: "block tail", at: origin + UInt64(bytes.count - 8), reason: "\(count) leaf entries do not fit the block")
            }
            end = bytes.count - 8 - count * 8
        }
        var entries: [RawDirectoryEntry] = []
        var position = headerSize
        // Every step advances by at least 8 bytes.
        while position < end {
            let tag: UInt16 = try reader.bigEndian(at: position, "free tag")
            let length: Int
            if tag == freeTag {
                length = Int(try reader.bigEndian(at: position + 2, "unused length") as UInt16)
                guard length >= 8, length % 8 == 0 else { throw invalid(position, "an unused span of \(length) bytes") }
            } else {
                let inode: UInt64 = try reader.bigEndian(at: position, "inode number")
                let nameLength = Int(try reader.integer(at: position + 8, "name length") as UInt8)
                guard nameLength > 0 else { throw invalid(position, "a name of 0 bytes") }
                let name = try reader.bytes(at: position + 9, count: nameLength, "name")
                let type: UInt8 = hasFileType ? try reader.integer(at: position + 9 + nameLength, "file type") : 0
                length = (8 + 1 + nameLength + (hasFileType ? 1 : 0) + 2 + 7) / 8 * 8
                entries.append(RawDirectoryEntry(name: name, inode: inode, fileType: type))
            }
            guard position + length <= end else { throw invalid(position, "\(length) bytes run past the block's data at \(end)") }
            let backTag = Int(try reader.bigEndian(at: position + length - 2, "tag") as UInt16)
            guard backTag == position else { throw invalid(position, "its tag holds \(backTag)") }
            position += length
        }
        return entries
    }
}
