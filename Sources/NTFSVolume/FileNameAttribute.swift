import ByteParsing

/// $FILE_NAME: one name of a file in one directory (also the key of $I30 index entries).
struct FileNameAttribute: Sendable {
    enum Namespace: UInt8, Sendable {
        case posix = 0, win32 = 1, dos = 2, win32AndDOS = 3
    }

    let parent: FileReference
    let created: Int64
    let modified: Int64
    let changed: Int64
    let accessed: Int64
    let dataSize: UInt64
    let fileAttributes: UInt32
    /// The reparse tag when `fileAttributes` has the reparse-point bit.
    let reparseTag: UInt32
    let namespace: UInt8
    let name: [UInt16]

    var isDOSOnly: Bool { namespace == Namespace.dos.rawValue }

    static func parse(_ value: [UInt8], origin: UInt64) throws(ByteParsingError) -> FileNameAttribute {
        var reader = ByteReader(value, origin: origin)
        let parent = FileReference(raw: try reader.u64("parent directory reference"))
        let created = try reader.i64("creation time")
        let modified = try reader.i64("modification time")
        let changed = try reader.i64("MFT change time")
        let accessed = try reader.i64("access time")
        try reader.skip(8, "allocated size")
        let dataSize = try reader.u64("data size")
        let attributes = try reader.u32("file attributes")
        let reparse = try reader.u32("reparse tag")
        let length = Int(try reader.u8("name length"))
        let namespace = try reader.u8("name namespace")
        guard length > 0 else { throw .invalid(what: "file name", at: origin + 0x40, reason: "empty name") }
        let name = try UTF16Text.units(value, at: 0x42, count: length, origin: origin, "file name")
        return FileNameAttribute(parent: parent, created: created, modified: modified, changed: changed, accessed: accessed,
                                 dataSize: dataSize, fileAttributes: attributes, reparseTag: reparse, namespace: namespace, name: name)
    }
}
