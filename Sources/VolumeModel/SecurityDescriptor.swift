import ByteParsing

/// A Windows security descriptor in self-relative form (what NTFS stores in $Secure:$SDS or a
/// file's $SECURITY_DESCRIPTOR, and what ntfs-3g shows as `system.ntfs_acl`), parsed and
/// checked: every offset and size inside the bytes, every ACE inside its ACL, every SID of a
/// valid length. The bytes themselves are kept as they were.
public struct SecurityDescriptor: Sendable, Equatable {
    /// Control bits (SE_*).
    public enum Control {
        public static let daclPresent: UInt16 = 0x0004
        public static let saclPresent: UInt16 = 0x0010
        public static let daclAutoInheritRequired: UInt16 = 0x0100
        public static let saclAutoInheritRequired: UInt16 = 0x0200
        public static let daclAutoInherited: UInt16 = 0x0400
        public static let saclAutoInherited: UInt16 = 0x0800
        public static let daclProtected: UInt16 = 0x1000
        public static let saclProtected: UInt16 = 0x2000
        public static let selfRelative: UInt16 = 0x8000
    }

    /// A security identifier: S-REVISION-AUTHORITY-SUB1-SUB2-...
    public struct SID: Sendable, Hashable, CustomStringConvertible {
        public let revision: UInt8
        /// The 48-bit identifier authority (big-endian on disk).
        public let authority: UInt64
        public let subAuthorities: [UInt32]

        public var description: String {
            // Authorities of 2^32 and above are written in hex, as Windows does.
            let authorityText = authority >= 1 << 32 ? "0x" + String(authority, radix: 16, uppercase: true) : String(authority)
            return (["S", String(revision), authorityText] + subAuthorities.map { String($0) }).joined(separator: "-")
        }

        /// Parses the SID at `offset`, bounded by `limit`; returns it with its length.
        static func parse(_ reader: ByteReader, at offset: Int, limit: Int, _ what: String) throws(ByteParsingError) -> (SID, Int) {
            var reader = reader
            guard offset >= 0, offset <= limit - 8 else {
                throw .invalid(what: what, at: reader.origin + UInt64(max(offset, 0)), reason: "an 8-byte SID header at \(offset) runs past \(limit) bytes")
            }
            try reader.seek(to: offset)
            let revision = try reader.u8("\(what) revision")
            let count = Int(try reader.u8("\(what) sub-authority count"))
            guard revision == 1, count <= 15 else {
                throw .invalid(what: what, at: reader.origin + UInt64(offset), reason: "revision \(revision) with \(count) sub-authorities (revision 1 with at most 15 expected)")
            }
            let length = 8 + 4 * count
            guard length <= limit - offset else {
                throw .invalid(what: what, at: reader.origin + UInt64(offset), reason: "\(length) bytes at \(offset) run past \(limit) bytes")
            }
            var authority: UInt64 = 0
            for byte in try reader.bytes(6, "\(what) authority") { authority = authority << 8 | UInt64(byte) }
            var subAuthorities: [UInt32] = []
            for _ in 0 ..< count { subAuthorities.append(try reader.u32("\(what) sub-authority")) }
            return (SID(revision: revision, authority: authority, subAuthorities: subAuthorities), length)
        }
    }

    /// One access control entry.
    public struct ACE: Sendable, Equatable {
        public let type: UInt8
        public let flags: UInt8
        public let mask: UInt32
        /// Object ACEs (types 5-8, 0x0B, 0x0C, 0x0F, 0x10): object type and inherited object type.
        public let objectType: [UInt8]?
        public let inheritedObjectType: [UInt8]?
        /// Nil for an ACE type whose body rpfs does not know (kept as stored, not rendered).
        public let sid: SID?
    }

    public struct ACL: Sendable, Equatable {
        public let revision: UInt8
        public let entries: [ACE]
    }

    public let bytes: [UInt8]
    public let control: UInt16
    public let owner: SID?
    public let group: SID?
    /// Nil when absent (`Control.daclPresent` unset) or a NULL DACL (present, offset 0).
    public let dacl: ACL?
    public let sacl: ACL?

    /// The extended attribute a volume answers with a file's descriptor (by name, as ntfs-3g).
    public static let extendedAttributeName = "system.ntfs_acl"

    /// The owner as "S-1-5-32-544", nil when the descriptor names none.
    public var ownerSID: String? { owner?.description }

    /// Largest descriptor accepted: a 64 KiB ACL is the format's limit, so this bounds two.
    public static let maxSize = 1 << 18

    public static func parse(_ bytes: [UInt8], origin: UInt64 = 0) throws(ByteParsingError) -> SecurityDescriptor {
        guard bytes.count >= 20, bytes.count <= maxSize else {
            throw .invalid(what: "security descriptor", at: origin, reason: "\(bytes.count) bytes (20 to \(maxSize) expected)")
        }
        var reader = ByteReader(bytes, origin: origin)
        let revision = try reader.u8("security descriptor revision")
        try reader.skip(1, "security descriptor reserved byte")
        let control = try reader.u16("security descriptor control")
        guard revision == 1, control & Control.selfRelative != 0 else {
            throw .invalid(what: "security descriptor", at: origin, reason: "revision \(revision), control 0x\(String(control, radix: 16)) (revision 1, self-relative expected)")
        }
        let ownerOffset = Int(try reader.u32("owner offset"))
        let groupOffset = Int(try reader.u32("group offset"))
        let saclOffset = Int(try reader.u32("SACL offset"))
        let daclOffset = Int(try reader.u32("DACL offset"))
        func sid(_ offset: Int, _ what: String) throws(ByteParsingError) -> SID? {
            guard offset != 0 else { return nil }
            guard offset >= 20 else { throw .invalid(what: what, at: origin, reason: "offset \(offset) points into the header") }
            return try SID.parse(reader, at: offset, limit: bytes.count, what).0
        }
        func acl(_ offset: Int, present: Bool, _ what: String) throws(ByteParsingError) -> ACL? {
            guard present, offset != 0 else { return nil }
            guard offset >= 20 else { throw .invalid(what: what, at: origin, reason: "offset \(offset) points into the header") }
            return try parseACL(reader, at: offset, what)
        }
        return SecurityDescriptor(bytes: bytes, control: control, owner: try sid(ownerOffset, "owner SID"), group: try sid(groupOffset, "group SID"),
                                  dacl: try acl(daclOffset, present: control & Control.daclPresent != 0, "DACL"),
                                  sacl: try acl(saclOffset, present: control & Control.saclPresent != 0, "SACL"))
    }

    private static func parseACL(_ base: ByteReader, at offset: Int, _ what: String) throws(ByteParsingError) -> ACL {
        var reader = base
        let total = reader.bytes.count
        guard offset <= total - 8 else {
            throw .invalid(what: what, at: base.origin + UInt64(offset), reason: "an 8-byte ACL header at \(offset) runs past \(total) bytes")
        }
        try reader.seek(to: offset)
        let revision = try reader.u8("\(what) revision")
        try reader.skip(1, "\(what) padding")
        let size = Int(try reader.u16("\(what) size"))
        let count = Int(try reader.u16("\(what) ACE count"))
        guard (2 ... 4).contains(revision), size >= 8, size <= total - offset else {
            throw .invalid(what: what, at: base.origin + UInt64(offset), reason: "revision \(revision), \(size) bytes at \(offset) of \(total)")
        }
        let end = offset + size
        var entries: [ACE] = []
        var position = offset + 8
        // Each ACE takes at least 4 bytes of the ACL, so the count is bounded by its size.
        guard count <= (size - 8) / 4 else {
            throw .invalid(what: what, at: base.origin + UInt64(offset + 4), reason: "\(count) ACEs cannot fit in \(size) bytes")
        }
        for index in 0 ..< count {
            let ace = "\(what) ACE \(index)"
            guard position <= end - 4 else {
                throw .invalid(what: ace, at: base.origin + UInt64(position), reason: "its header runs past the \(size)-byte ACL")
            }
            try reader.seek(to: position)
            let type = try reader.u8("\(ace) type")
            let flags = try reader.u8("\(ace) flags")
            let length = Int(try reader.u16("\(ace) size"))
            guard length >= 4, length % 4 == 0, length <= end - position else {
                throw .invalid(what: ace, at: base.origin + UInt64(position), reason: "\(length) bytes with \(end - position) left in the ACL")
            }
            entries.append(try parseACE(reader, at: position, type: type, flags: flags, end: position + length, ace))
            position += length
        }
        return ACL(revision: revision, entries: entries)
    }

    /// Types whose body is mask, flags, optional GUIDs, SID.
    static let objectTypes: Set<UInt8> = [0x05, 0x06, 0x07, 0x08, 0x0B, 0x0C, 0x0F, 0x10]
    /// Types whose body is mask, SID (allow, deny, audit, alarm, callback, label, resource
    /// attribute, scoped policy, access filter); more bytes may follow the SID.
    static let plainTypes: Set<UInt8> = [0x00, 0x01, 0x02, 0x03, 0x09, 0x0A, 0x0D, 0x0E, 0x11, 0x12, 0x13, 0x15]

    private static func parseACE(_ base: ByteReader, at position: Int, type: UInt8, flags: UInt8, end: Int,
                                 _ what: String) throws(ByteParsingError) -> ACE {
        var reader = base
        try reader.seek(to: position + 4)
        guard objectTypes.contains(type) || plainTypes.contains(type), end - position >= 8 else {
            var mask: UInt32 = 0
            if end - position >= 8 { mask = try reader.u32("\(what) mask") }
            return ACE(type: type, flags: flags, mask: mask, objectType: nil, inheritedObjectType: nil, sid: nil)
        }
        let mask = try reader.u32("\(what) mask")
        var objectType: [UInt8]?
        var inherited: [UInt8]?
        var sidOffset = position + 8
        if objectTypes.contains(type) {
            guard end - position >= 12 else {
                throw .invalid(what: what, at: base.origin + UInt64(position), reason: "an object ACE of \(end - position) bytes has no flags")
            }
            let objectFlags = try reader.u32("\(what) object flags")
            sidOffset += 4
            for bit: UInt32 in [1, 2] where objectFlags & bit != 0 {
                guard sidOffset <= end - 16 else {
                    throw .invalid(what: what, at: base.origin + UInt64(sidOffset), reason: "a GUID runs past the ACE")
                }
                let guid = try reader.bytes(16, "\(what) GUID")
                if bit == 1 { objectType = guid } else { inherited = guid }
                sidOffset += 16
            }
        }
        let (sid, _) = try SID.parse(base, at: sidOffset, limit: end, "\(what) SID")
        return ACE(type: type, flags: flags, mask: mask, objectType: objectType, inheritedObjectType: inherited, sid: sid)
    }
}
