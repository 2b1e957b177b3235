import ByteParsing

/// The Linux swap header: a magic in the last 10 bytes of the first page, and, for version 1,
/// UUID and label at 1036 and 1052. The page size is the one of the kernel that made it.
enum SwapHeader {
    static let magicSize = 10
    static let magics = [Array("SWAPSPACE2".utf8), Array("SWAP-SPACE".utf8)]
    /// Beyond 4 KiB: arm64 and ppc64 kernels with 16 or 64 KiB pages.
    static let largerPageSizes: [UInt64] = [8192, 16384, 65536]

    /// `head` holds the volume's first bytes; `magic` the 10 bytes that end its first page.
    static func identify(_ head: ByteReader, magic: [UInt8]?) -> VolumeInfo? {
        guard let magic, magics.contains(magic) else { return nil }
        guard magic == magics[0],
              let uuid = try? head.bytes(at: 1036, count: 16, "swap UUID"),
              let label = try? head.text(at: 1052, count: 16, "swap label")
        else { return VolumeInfo(kind: .swap) }
        return VolumeInfo(kind: .swap, label: label, uuid: uuid.allSatisfy { $0 == 0 } ? nil : IdentifierText.uuid(uuid))
    }
}
