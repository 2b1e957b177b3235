import ByteParsing

/// The XFS superblock at byte 0, big-endian.
enum XFSSuperblock {
    static let magic = Array("XFSB".utf8)

    static func identify(_ head: ByteReader) -> VolumeInfo? {
        guard head.matches(magic, at: 0),
              let blockSize = try? head.bigEndian(at: 4, "block size") as UInt32,
              (512 ... 65536).contains(blockSize), blockSize.nonzeroBitCount == 1,
              let uuid = try? head.bytes(at: 32, count: 16, "filesystem UUID"),
              let label = try? head.text(at: 108, count: 12, "filesystem name")
        else { return nil }
        return VolumeInfo(kind: .xfs, label: label, uuid: IdentifierText.uuid(uuid))
    }
}
