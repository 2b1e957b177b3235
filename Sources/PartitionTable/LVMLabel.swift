import ByteParsing

/// The LVM2 physical-volume label: "LABELONE" at the start of one of the first four sectors,
/// then the PV header with the 32-character PV UUID.
enum LVMLabel {
    static let labelMagic = Array("LABELONE".utf8)
    static let typeMagic = Array("LVM2 001".utf8)
    static let sectorSize = 512
    static let uuidLength = 32

    static func identify(_ head: ByteReader) -> VolumeInfo? {
        for sector in 0 ..< 4 {
            let base = sector * sectorSize
            guard head.matches(labelMagic, at: base), head.matches(typeMagic, at: base + 24),
                  // The label records its own sector: a PV inside a partition is not this volume's.
                  (try? head.integer(at: base + 8, "label sector") as UInt64) == UInt64(sector),
                  let pvHeader = try? head.integer(at: base + 20, "PV header offset") as UInt32,
                  pvHeader <= UInt32(sectorSize - uuidLength),
                  let uuid = try? head.bytes(at: base + Int(pvHeader), count: uuidLength, "PV UUID")
            else { continue }
            return VolumeInfo(kind: .lvm2, uuid: formatted(uuid))
        }
        return nil
    }

    /// LVM shows the 32 characters in groups of 6-4-4-4-4-4-6.
    private static func formatted(_ uuid: [UInt8]) -> String {
        var groups: [String] = []
        var start = 0
        for length in [6, 4, 4, 4, 4, 4, 6] {
            groups.append(String(decoding: uuid[start ..< start + length], as: UTF8.self))
            start += length
        }
        return groups.joined(separator: "-")
    }
}
