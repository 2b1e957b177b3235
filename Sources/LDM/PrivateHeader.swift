import ByteParsing

/// PRIVHEAD: one disk's identity in its disk group and where its LDM regions are. Every field
/// is big-endian; sector numbers count 512-byte sectors from the start of the disk.
public struct PrivateHeader: Sendable, Hashable {
    /// Bytes per sector in every LDM address.
    public static let sectorSize: UInt64 = 512
    /// What rpfs reads of a PRIVHEAD.
    static let size = 512

    /// Increases with every update: among valid copies, the highest wins.
    public let sequence: UInt32
    public let version: String
    /// The GUIDs as the header stores them, as text ("xxxxxxxx-xxxx-...").
    public let diskGUID: String
    public let diskGroupGUID: String
    public let diskGroupName: String
    /// Where the data of the dynamic volumes starts: partitions' starts count from here.
    public let logicalDiskStart: UInt64
    public let logicalDiskSize: UInt64
    /// The private region: the database (TOCBLOCKs, VMDB, VBLKs, log) and PRIVHEAD copies.
    public let configStart: UInt64
    public let configSize: UInt64

    /// Reads the PRIVHEAD in `bytes` (at least 512 of them); throws unless it is one.
    public init(_ reader: ByteReader) throws(ByteParsingError) {
        guard reader.hasMagic("PRIVHEAD", at: 0) else {
            throw .invalid(what: "PRIVHEAD", at: reader.origin, reason: "no PRIVHEAD signature")
        }
        sequence = try reader.bigEndian(at: 0x08, "PRIVHEAD sequence")
        let major: UInt16 = try reader.bigEndian(at: 0x0C, "PRIVHEAD version")
        let minor: UInt16 = try reader.bigEndian(at: 0x0E, "PRIVHEAD version")
        // 2.11 is Windows 2000/XP's, 2.12 Vista's and later.
        guard major == 2, minor == 11 || minor == 12 else {
            throw .invalid(what: "PRIVHEAD version", at: reader.origin + 0x0C, reason: "\(major).\(minor), expected 2.11 or 2.12")
        }
        version = "\(major).\(minor)"
        diskGUID = try Self.guid(reader, at: 0x30, "disk GUID")
        diskGroupGUID = try Self.guid(reader, at: 0xB0, "disk group GUID")
        diskGroupName = try reader.paddedText(at: 0xF0, count: 32, "disk group name")
        logicalDiskStart = try reader.bigEndian(at: 0x11B, "logical disk start")
        logicalDiskSize = try reader.bigEndian(at: 0x123, "logical disk size")
        configStart = try reader.bigEndian(at: 0x12B, "config start")
        configSize = try reader.bigEndian(at: 0x133, "config size")
        guard logicalDiskSize > 0, configSize > 0 else {
            throw .invalid(what: "PRIVHEAD", at: reader.origin + 0x11B, reason: "an empty data or private region")
        }
        _ = try Checked.add(logicalDiskStart, logicalDiskSize, "logical disk end")
        _ = try Checked.multiply(try Checked.add(configStart, configSize, "config end"), Self.sectorSize, "config end")
    }

    /// A GUID stored as up to 64 characters of text: 36 of hex digits and dashes.
    static func guid(_ reader: ByteReader, at position: Int, _ what: String) throws(ByteParsingError) -> String {
        let text = try reader.paddedText(at: position, count: 64, what)
        guard GUIDText.isValid(text) else {
            throw .invalid(what: what, at: reader.origin + UInt64(position), reason: "not a GUID")
        }
        return text.lowercased()
    }
}

/// GUIDs as text: 8-4-4-4-12 hex digits.
enum GUIDText {
    static func isValid(_ text: String) -> Bool {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        return groups.map(\.count) == [8, 4, 4, 4, 12] && groups.allSatisfy { $0.allSatisfy(\.isHexDigit) }
    }

    /// 16 bytes in stored order, as libldm and ldmtool print a binary GUID.
    static func format(_ bytes: [UInt8]) -> String {
        let hex = Hex.encode(bytes)
        var result = ""
        for (index, character) in hex.enumerated() {
            if [8, 12, 16, 20].contains(index) { result.append("-") }
            result.append(character)
        }
        return result
    }
}
