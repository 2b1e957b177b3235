import ByteParsing

/// The primary Btrfs superblock, 64 KiB into the volume.
enum BtrfsSuperblock {
    static let offset: UInt64 = 65536
    /// Enough for the fields used here; the label ends at 555.
    static let size = 1024
    static let magic = Array("_BHRfS_M".utf8)

    /// `superblock` holds the bytes from `offset` on.
    static func identify(_ superblock: ByteReader) -> VolumeInfo? {
        guard superblock.matches(magic, at: 64),
              // The superblock records its own position.
              (try? superblock.integer(at: 48, "bytenr") as UInt64) == offset,
              let fsid = try? superblock.bytes(at: 32, count: 16, "filesystem UUID"),
              let label = try? superblock.text(at: 299, count: 256, "label")
        else { return nil }
        return VolumeInfo(kind: .btrfs, label: label, uuid: IdentifierText.uuid(fsid))
    }
}
