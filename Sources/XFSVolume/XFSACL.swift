import ByteParsing
import VolumeModel

/// POSIX ACLs as XFS stores them (fs/xfs/libxfs/xfs_format.h, struct xfs_acl): in the
/// trusted namespace as SGI_ACL_FILE and SGI_ACL_DEFAULT, a big-endian entry count then
/// 12-byte entries of tag, id and permissions. Shown as the kernel shows them: in the system
/// namespace, in its xattr format.
enum XFSACL {
    static let accessName: [UInt8] = Array("SGI_ACL_FILE".utf8)
    static let defaultName: [UInt8] = Array("SGI_ACL_DEFAULT".utf8)

    /// The system-namespace name for a trusted attribute that holds an ACL; nil for others.
    static func systemName(_ trustedName: [UInt8]) -> String? {
        switch trustedName {
        case accessName: PosixACL.accessName
        case defaultName: PosixACL.defaultName
        default: nil
        }
    }

    static func xattrValue(_ value: [UInt8]) throws(ByteParsingError) -> [UInt8] {
        let reader = ByteReader(value)
        let count = Int(try reader.bigEndian(at: 0, "ACL entry count") as UInt32)
        guard value.count == 4 + 12 * count else {
            throw .invalid(what: "ACL", at: 0, reason: "\(count) entries in \(value.count) bytes")
        }
        var entries: [PosixACL.Entry] = []
        for index in 0 ..< count {
            let at = 4 + index * 12
            let tag: UInt32 = try reader.bigEndian(at: at, "ACL entry tag")
            guard let tag16 = UInt16(exactly: tag), PosixACL.tagHasID(tag16) != nil else {
                throw .invalid(what: "ACL entry tag", at: UInt64(at), reason: "unknown tag \(tag)")
            }
            entries.append(PosixACL.Entry(tag: tag16, permissions: try reader.bigEndian(at: at + 8, "ACL entry permissions"),
                                          id: try reader.bigEndian(at: at + 4, "ACL entry id")))
        }
        return PosixACL.xattrValue(entries)
    }
}
