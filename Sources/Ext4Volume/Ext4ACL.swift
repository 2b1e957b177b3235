import ByteParsing
import VolumeModel

/// POSIX ACLs as ext4 stores them, turned into the format Linux's getxattr returns and
/// setxattr takes (`VolumeModel.PosixACL`).
///
/// On disk (fs/ext4/acl.h): a 4-byte header with version 1, then entries; ACL_USER and
/// ACL_GROUP entries are 8 bytes (tag, permissions, id), the others 4 (tag, permissions).
///
/// libext2fs 1.47.0 hands these out as stored from `ext2fs_xattrs_iterate`; its converter
/// (`ext2fs_xattr_get`) writes id 0 instead of ACL_UNDEFINED_ID, so rpfs converts itself.
enum Ext4ACL {
    static let diskVersion: UInt32 = 1

    static let names: Set<String> = [PosixACL.accessName, PosixACL.defaultName]

    /// The xattr-format value for a value as stored; one already in xattr format (version 2)
    /// passes through unchanged. Errors name `volume` and `structure` (the inode).
    static func xattrValue(fromDisk value: [UInt8], volume: String, structure: String, name: String) throws(VolumeError) -> [UInt8] {
        do throws(ByteParsingError) {
            var reader = ByteReader(value)
            let version = try reader.u32("ACL version")
            if version == PosixACL.xattrVersion, (value.count - 4) % 8 == 0 { return value }
            guard version == diskVersion else {
                throw ByteParsingError.invalid(what: "ACL version", at: 0, reason: "\(version), expected 1")
            }
            var entries: [PosixACL.Entry] = []
            // Each entry takes at least 4 bytes: the loop ends.
            while !reader.isAtEnd {
                let tag = try reader.u16("ACL entry tag")
                let permissions = try reader.u16("ACL entry permissions")
                guard let hasID = PosixACL.tagHasID(tag) else {
                    throw ByteParsingError.invalid(what: "ACL entry tag", at: UInt64(reader.offset - 4), reason: "unknown tag \(tag)")
                }
                entries.append(PosixACL.Entry(tag: tag, permissions: permissions, id: hasID ? try reader.u32("ACL entry id") : 0))
            }
            return PosixACL.xattrValue(entries)
        } catch {
            throw .corrupt(volume: volume, structure: structure, problem: "extended attribute \(name): \(error)")
        }
    }
}
