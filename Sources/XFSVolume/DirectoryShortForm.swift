import ByteParsing

/// A directory small enough to live in its inode (struct xfs_dir2_sf_hdr): entry count, how
/// many inode numbers take 8 bytes instead of 4, the parent, then entries of name length,
/// 2-byte offset, name, file type (with the ftype feature) and inode number.
enum DirectoryShortForm {
    static func entries(_ fork: [UInt8], size: UInt64, origin: UInt64, hasFileType: Bool) throws(ByteParsingError) -> [RawDirectoryEntry] {
        guard size >= 6, size <= UInt64(fork.count) else {
            throw .invalid(what: "short-form directory", at: origin, reason: "\(size) bytes in a \(fork.count)-byte fork")
        }
        var reader = ByteReader(Array(fork.prefix(Int(size))), origin: origin)
        let count = Int(try reader.u8("entry count"))
        let wide = try reader.u8("8-byte inode count") != 0
        let numberSize = wide ? 8 : 4
        try reader.skip(numberSize, "parent inode")
        var entries: [RawDirectoryEntry] = []
        // Each entry takes at least 8 bytes of the fork: the count cannot outrun it.
        for _ in 0 ..< count {
            let length = Int(try reader.u8("name length"))
            guard length > 0 else { throw .invalid(what: "name length", at: origin + UInt64(reader.offset - 1), reason: "0") }
            try reader.skip(2, "offset")
            let name = try reader.bytes(length, "name")
            let type = hasFileType ? try reader.u8("file type") : 0
            let raw = try reader.bytes(numberSize, "inode number")
            entries.append(RawDirectoryEntry(name: name, inode: raw.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }, fileType: type))
        }
        return entries
    }
}
