import ByteParsing

/// POSIX ACLs in the format Linux's getxattr returns and setxattr takes for
/// "system.posix_acl_access" and "system.posix_acl_default"
/// (include/uapi/linux/posix_acl_xattr.h): version 2, then 8-byte little-endian entries of
/// tag, permissions and id, with ACL_UNDEFINED_ID where the tag has no id. Readers turn their
/// filesystem's own format into entries and encode them here.
public enum PosixACL {
    public static let accessName = "system.posix_acl_access"
    public static let defaultName = "system.posix_acl_default"
    public static let xattrVersion: UInt32 = 2
    public static let undefinedID: UInt32 = 0xFFFF_FFFF

    public enum Tag {
        public static let userObject: UInt16 = 0x01
        public static let user: UInt16 = 0x02
        public static let groupObject: UInt16 = 0x04
        public static let group: UInt16 = 0x08
        public static let mask: UInt16 = 0x10
        public static let other: UInt16 = 0x20
    }

    public struct Entry: Sendable, Equatable {
        public let tag: UInt16
        public let permissions: UInt16
        public let id: UInt32

        public init(tag: UInt16, permissions: UInt16, id: UInt32) {
            self.tag = tag
            self.permissions = permissions
            self.id = id
        }
    }

    /// Whether entries with `tag` carry a user or group id; nil for a tag POSIX does not know.
    public static func tagHasID(_ tag: UInt16) -> Bool? {
        switch tag {
        case Tag.user, Tag.group: true
        case Tag.userObject, Tag.groupObject, Tag.mask, Tag.other: false
        default: nil
        }
    }

    /// The xattr value for `entries`; ids of tags without one become ACL_UNDEFINED_ID.
    public static func xattrValue(_ entries: [Entry]) -> [UInt8] {
        var out = ByteWriter(capacity: 4 + entries.count * 8)
        out.append(xattrVersion)
        for entry in entries {
            out.append(entry.tag)
            out.append(entry.permissions)
            out.append(tagHasID(entry.tag) == true ? entry.id : undefinedID)
        }
        return out.bytes
    }
}
