/// Security Descriptor Definition Language text of a descriptor, as Windows'
/// ConvertSecurityDescriptorToStringSecurityDescriptor writes it: "O:owner G:group D:flags(ACE)...
/// S:flags(ACE)..." with well-known SIDs by their two-letter aliases, rights by name when the
/// whole mask has one (FA) or every bit has one (GRGX), else in hex.
public enum SDDL {
    public static func render(_ descriptor: SecurityDescriptor) -> String {
        var text = ""
        if let owner = descriptor.owner { text += "O:" + sid(owner) }
        if let group = descriptor.group { text += "G:" + sid(group) }
        let control = descriptor.control
        if control & SecurityDescriptor.Control.daclPresent != 0 {
            text += "D:" + aclFlags(control, protected: SecurityDescriptor.Control.daclProtected,
                                    required: SecurityDescriptor.Control.daclAutoInheritRequired,
                                    inherited: SecurityDescriptor.Control.daclAutoInherited)
            text += descriptor.dacl.map(acl) ?? "NO_ACCESS_CONTROL"
        }
        if control & SecurityDescriptor.Control.saclPresent != 0 {
            text += "S:" + aclFlags(control, protected: SecurityDescriptor.Control.saclProtected,
                                    required: SecurityDescriptor.Control.saclAutoInheritRequired,
                                    inherited: SecurityDescriptor.Control.saclAutoInherited)
            text += descriptor.sacl.map(acl) ?? "NO_ACCESS_CONTROL"
        }
        return text
    }

    /// A SID's alias ("BA") when it is a well-known one, else its S-1-... form.
    public static func sid(_ sid: SecurityDescriptor.SID) -> String {
        aliases[sid.description] ?? sid.description
    }

    private static func aclFlags(_ control: UInt16, protected: UInt16, required: UInt16, inherited: UInt16) -> String {
        (control & protected != 0 ? "P" : "") + (control & required != 0 ? "AR" : "") + (control & inherited != 0 ? "AI" : "")
    }

    private static func acl(_ acl: SecurityDescriptor.ACL) -> String {
        acl.entries.map(ace).joined()
    }

    private static func ace(_ ace: SecurityDescriptor.ACE) -> String {
        let type = aceTypes[ace.type] ?? "0x" + String(ace.type, radix: 16)
        let flags = aceFlags.filter { ace.flags & $0.bit != 0 }.map(\.name).joined()
        let rights = ace.type == mandatoryLabel ? labelRights(ace.mask) : rights(ace.mask)
        let fields = [type, flags, rights, ace.objectType.map(guid) ?? "", ace.inheritedObjectType.map(guid) ?? "", ace.sid.map(sid) ?? ""]
        return "(" + fields.joined(separator: ";") + ")"
    }

    /// A name for the whole mask, else a name for every bit, else hex ("0x1200a9").
    public static func rights(_ mask: UInt32) -> String {
        if mask == 0 { return "" }
        if let name = wholeMasks.first(where: { $0.mask == mask })?.name { return name }
        var names = ""
        for bit in 0 ..< 32 where mask & (1 << bit) != 0 {
            guard let name = bitNames[bit] else { return "0x" + String(mask, radix: 16) }
            names += name
        }
        return names
    }

    /// Mandatory label ACEs name their low bits no-write-up, no-read-up, no-execute-up.
    private static func labelRights(_ mask: UInt32) -> String {
        let names: [(UInt32, String)] = [(0x1, "NW"), (0x2, "NR"), (0x4, "NX")]
        guard mask & ~0x7 == 0 else { return rights(mask) }
        return names.filter { mask & $0.0 != 0 }.map(\.1).joined()
    }

    /// Mixed-endian text of an on-disk GUID: the first three fields are little-endian.
    private static func guid(_ bytes: [UInt8]) -> String {
        func hex(_ indices: [Int]) -> String {
            indices.map { index in
                let text = String(bytes[index], radix: 16)
                return text.count == 1 ? "0" + text : text
            }.joined()
        }
        guard bytes.count == 16 else { return "" }
        return [hex([3, 2, 1, 0]), hex([5, 4]), hex([7, 6]), hex([8, 9]), hex(Array(10 ..< 16))].joined(separator: "-")
    }

    private static let mandatoryLabel: UInt8 = 0x11

    private static let aceTypes: [UInt8: String] = [
        0x00: "A", 0x01: "D", 0x02: "AU", 0x03: "AL", 0x05: "OA", 0x06: "OD", 0x07: "OU", 0x08: "OL",
        0x09: "XA", 0x0A: "XD", 0x0B: "ZA", 0x0D: "XU", 0x11: "ML", 0x12: "RA", 0x13: "SP", 0x15: "FL",
    ]

    private static let aceFlags: [(bit: UInt8, name: String)] = [
        (0x01, "OI"), (0x02, "CI"), (0x04, "NP"), (0x08, "IO"), (0x10, "ID"), (0x40, "SA"), (0x80, "FA"),
    ]

    /// Masks named as a whole, checked in this order (so 0x20019 is KR, as Windows writes it).
    private static let wholeMasks: [(mask: UInt32, name: String)] = [
        (0x1000_0000, "GA"), (0x8000_0000, "GR"), (0x4000_0000, "GW"), (0x2000_0000, "GX"),
        (0x0002_0000, "RC"), (0x0001_0000, "SD"), (0x0004_0000, "WD"), (0x0008_0000, "WO"),
        (0x0000_0010, "RP"), (0x0000_0020, "WP"), (0x0000_0001, "CC"), (0x0000_0002, "DC"), (0x0000_0004, "LC"),
        (0x0000_0008, "SW"), (0x0000_0080, "LO"), (0x0000_0040, "DT"), (0x0000_0100, "CR"),
        (0x001F_01FF, "FA"), (0x0012_0089, "FR"), (0x0012_0116, "FW"), (0x0012_00A0, "FX"),
        (0x000F_003F, "KA"), (0x0002_0019, "KR"), (0x0002_0006, "KW"),
    ]

    /// Names of single bits, for masks built from them (bits without a name force hex).
    private static let bitNames: [Int: String] = [
        0: "CC", 1: "DC", 2: "LC", 3: "SW", 4: "RP", 5: "WP", 6: "DT", 7: "LO", 8: "CR",
        16: "SD", 17: "RC", 18: "WD", 19: "WO", 28: "GA", 29: "GX", 30: "GW", 31: "GR",
    ]

    private static let aliases: [String: String] = [
        "S-1-1-0": "WD", "S-1-3-0": "CO", "S-1-3-1": "CG", "S-1-3-4": "OW", "S-1-5-2": "NU", "S-1-5-4": "IU",
        "S-1-5-6": "SU", "S-1-5-7": "AN", "S-1-5-9": "ED", "S-1-5-10": "PS", "S-1-5-11": "AU", "S-1-5-12": "RC",
        "S-1-5-18": "SY", "S-1-5-19": "LS", "S-1-5-20": "NS", "S-1-5-33": "WR",
        "S-1-5-32-544": "BA", "S-1-5-32-545": "BU", "S-1-5-32-546": "BG", "S-1-5-32-547": "PU", "S-1-5-32-548": "AO",
        "S-1-5-32-549": "SO", "S-1-5-32-550": "PO", "S-1-5-32-551": "BO", "S-1-5-32-552": "RE", "S-1-5-32-554": "RU",
        "S-1-5-32-555": "RD", "S-1-5-32-556": "NO", "S-1-5-32-558": "MU", "S-1-5-32-559": "LU", "S-1-5-32-568": "IS",
        "S-1-5-32-569": "CY", "S-1-5-32-573": "ER", "S-1-5-32-574": "CD", "S-1-5-32-575": "RA", "S-1-5-32-576": "ES",
        "S-1-5-32-577": "MS", "S-1-5-32-578": "HA", "S-1-5-32-579": "AA", "S-1-5-32-580": "RM",
        "S-1-15-2-1": "AC", "S-1-16-4096": "LW", "S-1-16-8192": "ME", "S-1-16-8448": "MP", "S-1-16-12288": "HI",
        "S-1-16-16384": "SI",
    ]
}
