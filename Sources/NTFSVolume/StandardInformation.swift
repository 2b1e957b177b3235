import ByteParsing

/// $STANDARD_INFORMATION: the file's times and DOS attributes (what Windows shows).
struct StandardInformation: Sendable {
    let created: Int64
    let modified: Int64
    let changed: Int64
    let accessed: Int64
    let fileAttributes: UInt32
    /// The key of the file's descriptor in $Secure (NTFS 3.0 and later: the 72-byte form);
    /// nil in the 48-byte NTFS 1.x form, where a $SECURITY_DESCRIPTOR attribute holds it.
    let securityID: UInt32?

    static func parse(_ value: [UInt8], origin: UInt64) throws(ByteParsingError) -> StandardInformation {
        var reader = ByteReader(value, origin: origin)
        let created = try reader.i64("creation time")
        let modified = try reader.i64("modification time")
        let changed = try reader.i64("MFT change time")
        let accessed = try reader.i64("access time")
        let attributes = try reader.u32("file attributes")
        var securityID: UInt32?
        if value.count >= 0x38 { securityID = try reader.integer(at: 0x34, "security id") }
        return StandardInformation(created: created, modified: modified, changed: changed, accessed: accessed,
                                   fileAttributes: attributes, securityID: securityID)
    }
}

/// FILE_ATTRIBUTE_* bits, in $STANDARD_INFORMATION and $FILE_NAME.
enum FileAttributes {
    static let readOnly: UInt32 = 0x0001
    static let hidden: UInt32 = 0x0002
    static let system: UInt32 = 0x0004
    static let directory: UInt32 = 0x0010
    static let normal: UInt32 = 0x0080
    static let sparse: UInt32 = 0x0200
    /// The data is on other storage (HSM, cloud files).
    static let offline: UInt32 = 0x1000
    /// Part of the data is not here: reading it would fetch it (cloud files placeholders).
    static let recallOnDataAccess: UInt32 = 0x0040_0000
    static let reparsePoint: UInt32 = 0x0400
    static let compressed: UInt32 = 0x0800
    static let encrypted: UInt32 = 0x4000
    /// In $FILE_NAME only: the file is a directory (has a $I30 index).
    static let directoryIndex: UInt32 = 0x1000_0000
}
