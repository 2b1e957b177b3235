import ByteParsing

/// The binary header of LUKS1 and LUKS2 (cryptsetup's on-disk formats). Fields are
/// big-endian; both versions keep the UUID as text at 168. LUKS2 also keeps a second copy
/// of its binary header right after the first header area, so a volume whose first
/// sectors were overwritten is still recognised.
enum LUKSHeader {
    static let primaryMagic: [UInt8] = [0x4C, 0x55, 0x4B, 0x53, 0xBA, 0xBE] // "LUKS\xba\xbe"
    static let secondaryMagic: [UInt8] = [0x53, 0x4B, 0x55, 0x4C, 0xBA, 0xBE] // "SKUL\xba\xbe"
    /// Where cryptsetup may put the secondary header: the primary area is 16 KiB to 4 MiB.
    static let secondaryOffsets: [UInt64] = (14 ... 22).map { 1 << $0 }
    /// The fields used here all lie in the first 512 bytes of the 4 KiB binary header.
    static let binaryHeaderSize = 512

    static func identify(_ head: ByteReader) -> VolumeInfo? {
        guard head.matches(primaryMagic, at: 0), let version = try? head.bigEndian(at: 6, "LUKS version") as UInt16 else {
            return nil
        }
        switch version {
        case 1: return try? info(.luks1, head, label: false)
        case 2: return try? info(.luks2, head, label: true)
        default: return VolumeInfo(kind: .unknown, detail: "LUKS header of unknown version \(version)")
        }
    }

    /// A LUKS2 secondary header read at `offset`; it records its own offset, which rules out
    /// a LUKS2 volume that merely starts there (as in a partition inside this one).
    static func identifySecondary(_ header: ByteReader, at offset: UInt64) -> VolumeInfo? {
        guard header.matches(secondaryMagic, at: 0),
              (try? header.bigEndian(at: 6, "LUKS version") as UInt16) == 2,
              (try? header.bigEndian(at: 256, "header offset") as UInt64) == offset,
              let found = try? info(.luks2, header, label: true)
        else { return nil }
        return VolumeInfo(
            kind: .luks2, label: found.label, uuid: found.uuid,
            detail: "primary LUKS2 header missing or damaged; found by its secondary header at byte \(offset)")
    }

    private static func info(_ kind: VolumeKind, _ header: ByteReader, label: Bool) throws(ByteParsingError) -> VolumeInfo {
        VolumeInfo(
            kind: kind,
            label: label ? try header.text(at: 24, count: 48, "LUKS2 label") : nil,
            uuid: try header.text(at: 168, count: 40, "LUKS UUID"))
    }
}
