import ByteParsing

/// A POSIX ACL in the kernel's xattr format (`system.posix_acl_access`, `..._default`: a
/// version 2 header, then tag, permissions and id per entry) as the short text form that
/// GNU tar's SCHILY.acl.* records carry and `acl_from_text` reads back:
/// "user::rw-,user:1234:rwx,group::r-x,mask::rwx,other::r--". Ids stay numeric.
enum POSIXACLText {
    static let version: UInt32 = 2
    /// The most entries rpfs reads from one ACL: ext4 holds at most a block of them.
    static let maxEntries = 1024

    static func text(_ value: [UInt8]) throws(ByteParsingError) -> String {
        var reader = ByteReader(value)
        guard try reader.u32("ACL version") == version else { throw .invalid(what: "ACL version", at: 0, reason: "expected \(version)") }
        guard reader.remaining % 8 == 0, reader.remaining / 8 <= maxEntries else { throw .invalid(what: "ACL entries", at: 4, reason: "\(reader.remaining) bytes: not whole 8-byte entries, or over \(maxEntries)") }
        var entries: [String] = []
        while !reader.isAtEnd {
            let tag = try reader.u16("ACL tag")
            let permissions = try reader.u16("ACL permissions")
            let id = try reader.u32("ACL id")
            let bits = (permissions & 4 != 0 ? "r" : "-") + (permissions & 2 != 0 ? "w" : "-") + (permissions & 1 != 0 ? "x" : "-")
            switch tag {
            case 0x01: entries.append("user::\(bits)")
            case 0x02: entries.append("user:\(id):\(bits)")
            case 0x04: entries.append("group::\(bits)")
            case 0x08: entries.append("group:\(id):\(bits)")
            case 0x10: entries.append("mask::\(bits)")
            case 0x20: entries.append("other::\(bits)")
            default: throw .invalid(what: "ACL tag", at: UInt64(reader.offset - 8), reason: "unknown tag \(tag)")
            }
        }
        return entries.joined(separator: ",")
    }
}
