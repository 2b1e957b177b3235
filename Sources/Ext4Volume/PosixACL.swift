import ByteParsing
import VolumeModel

/// POSIX ACLs as ext4 stores them, turned into the format Linux's getxattr returns and
/// setxattr takes ("system.posix_acl_access", "system.posix_acl_default").
///
/// On disk (fs/ext4/acl.h): a 4-byte header with version 1, then entries; ACL_USER and
/// ACL_GROUP entries are 8 bytes (tag, permissions, id), the others 4 (tag, permissions).
/// In the kernel's xattr format (include/uapi/linux/posix_acl_xattr.h): version 2, and every
/// entry 8 bytes, with id ACL_UNDEFINED_ID (0xFFFFFFFF) where the tag has none.
///
/// libext2fs 1.47.0 hands these out as stored from `ext2fs_xattrs_iterate`; its converter
/// (`ext2fs_xattr_get`) writes id 0 instead of ACL_UNDEFINED_ID, so rpfs converts itself.
enum PosixACL {
    static let diskVersion: UInt32 = 1
    static let xattrVersion: UInt32 = 2
    static let undefinedID: UInt32 = 0xFFFF_FFFF

    enum Tag {
        static let userObject: UInt16 = 0x01
        static let user: UInt16 = 0x02
        static let groupObject: UInt16 = 0x04
        static let group: UInt16 = 0x08
        static let mask: UInt16 = 0x10
        static let other: UInt16 = 0x20
    }

    static let names: Set<String> = ["system.posix_acl_access", "system.posix_acl_default"]

    /// The xattr-format value for a value as stored; one already in xattr format (version 2)
    /// passes through unchanged. Errors name `volume` and `structure` (the inode).
    static func xattrValue(fromDisk value: [UInt8], volume: String, structure: String, name: String) throws(VolumeError) -> [UInt8] {
        do throws(ByteParsingError) {
            var reader = ByteReader(value)
            let version = try reader.u32("ACL version")
            if version == xattrVersion, (value.count - 4) % 8 == 0 { return value }
            guard version == diskVersion else {
                throw ByteParsingError.invalid(what: "ACL version", at: 0, reason: "\(version), expected 1")
            }
            var out = ByteWriter(capacity: value.count * 2)
            out.append(xattrVersion)
            // Each entry takes at least 4 bytes: the loop ends.
            while !reader.isAtEnd {
                let tag = try reader.u16("ACL entry tag")
                let permissions = try reader.u16("ACL entry permissions")
                let id: UInt32
                switch tag {
                case Tag.user, Tag.group:
                    id = try reader.u32("ACL entry id")
                case Tag.userObject, Tag.groupObject, Tag.mask, Tag.other:
                    id = undefinedID
                default:
                    throw ByteParsingError.invalid(what: "ACL entry tag", at: UInt64(reader.offset - 4), reason: "unknown tag \(tag)")
                }
                out.append(tag)
                out.append(permissions)
                out.append(id)
            }
            return out.bytes
        } catch {
            throw .corrupt(volume: volume, structure: structure, problem: "extended attribute \(name): \(error)")
        }
    }
}
