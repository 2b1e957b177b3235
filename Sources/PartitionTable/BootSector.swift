import ByteParsing

/// Sector 0 of the Microsoft volumes: NTFS, FAT12/16/32, ReFS, and BitLocker, which keeps a boot
/// sector of its own in front of the ciphertext. Everything here is decided from these 512
/// bytes; BitLocker's FVE metadata blocks are never needed (they may lie past the end of a
/// truncated image).
enum BootSector {
    static let bitlockerOEM = Array("-FVE-FS-".utf8)
    static let ntfsOEM = Array("NTFS    ".utf8)
    /// BitLocker To Go's boot sector passes for FAT32 ("MSWIN4.1") so that old Windows can
    /// run the reader tool from it; this GUID at 424 is what marks it (libbde's format notes).
    static let toGoGUID: [UInt8] = [
        0x3B, 0xD6, 0x67, 0x49, 0x29, 0x2E, 0xD8, 0x4A, 0x83, 0x99, 0xF6, 0xA3, 0x39, 0xE3, 0xD0, 0x01,
    ]
    static let toGoGUIDOffset = 424

    /// ReFS: "ReFS" and four zero bytes as the OEM name, "FSRS" at 16.
    static let refsOEM = Array("ReFS".utf8) + [0, 0, 0, 0]
    static let refsIdentifier = Array("FSRS".utf8)

    static func identify(_ sector: ByteReader) -> VolumeInfo? {
        if sector.matches(bitlockerOEM, at: 3) { return VolumeInfo(kind: .bitlocker) }
        if sector.matches(refsOEM, at: 3), sector.matches(refsIdentifier, at: 16) { return VolumeInfo(kind: .refs) }
        if sector.matches(toGoGUID, at: toGoGUIDOffset) { return VolumeInfo(kind: .bitlockerToGo) }
        guard sector.matches([0x55, 0xAA], at: 510) else { return nil }
        if sector.matches(ntfsOEM, at: 3) { return try? ntfs(sector) }
        return try? fat(sector)
    }

    /// The NTFS volume from the copy of its boot sector that mkntfs and Windows keep in the
    /// sector just past the volume's declared sectors (the partition's last sector): only a
    /// copy that puts itself exactly there.
    static func identifyNTFSBackup(_ sector: ByteReader, at offset: UInt64) -> VolumeInfo? {
        guard sector.matches(ntfsOEM, at: 3), sector.matches([0x55, 0xAA], at: 510),
              let info = try? ntfs(sector),
              let bytesPerSector: UInt16 = try? sector.integer(at: 11, "bytes per sector"),
              let totalSectors: UInt64 = try? sector.integer(at: 40, "total sectors"),
              totalSectors.multipliedReportingOverflow(by: UInt64(bytesPerSector)) == (offset, false)
        else { return nil }
        return info
    }

    /// Where an NTFS volume of `size` bytes keeps its backup boot sector, for 512- and
    /// 4096-byte sectors.
    static func ntfsBackupCandidates(volumeSize size: UInt64) -> [BackupHeader] {
        [512, 4096].compactMap { sectorSize in
            size >= 2 * sectorSize && size % sectorSize == 0
                ? BackupHeader(structure: "NTFS boot sector", offset: size - sectorSize, unit: UInt32(sectorSize)) : nil
        }
    }

    private static func isPowerOfTwo(_ value: some FixedWidthInteger, in range: ClosedRange<Int>) -> Bool {
        range.contains(Int(value)) && value.nonzeroBitCount == 1
    }

    private static func ntfs(_ sector: ByteReader) throws(ByteParsingError) -> VolumeInfo? {
        let bytesPerSector: UInt16 = try sector.integer(at: 11, "bytes per sector")
        let sectorsPerCluster: UInt8 = try sector.integer(at: 13, "sectors per cluster")
        let totalSectors: UInt64 = try sector.integer(at: 40, "total sectors")
        // Values of 0xF4 and up mean 2^(256 - value) sectors, for clusters beyond 64 KiB.
        guard isPowerOfTwo(bytesPerSector, in: 256 ... 4096),
              isPowerOfTwo(sectorsPerCluster, in: 1 ... 128) || sectorsPerCluster >= 0xF4,
              totalSectors > 0
        else { return nil }
        let serial: UInt64 = try sector.integer(at: 72, "volume serial number")
        return VolumeInfo(kind: .ntfs, uuid: IdentifierText.hex(serial, digits: 16).uppercased())
    }

    /// The FAT type from the BPB as blkid decides it: a BPB without a 16-bit FAT size is
    /// FAT32, otherwise the cluster count tells FAT12 from FAT16 (Microsoft's FAT spec).
    private static func fat(_ sector: ByteReader) throws(ByteParsingError) -> VolumeInfo? {
        let jump: UInt8 = try sector.integer(at: 0, "jump instruction")
        let bytesPerSector: UInt16 = try sector.integer(at: 11, "bytes per sector")
        let sectorsPerCluster: UInt8 = try sector.integer(at: 13, "sectors per cluster")
        let reservedSectors: UInt16 = try sector.integer(at: 14, "reserved sectors")
        let fatCount: UInt8 = try sector.integer(at: 16, "number of FATs")
        let rootEntries: UInt16 = try sector.integer(at: 17, "root directory entries")
        let totalSectors16: UInt16 = try sector.integer(at: 19, "total sectors (16-bit)")
        let media: UInt8 = try sector.integer(at: 21, "media descriptor")
        let fatSize16: UInt16 = try sector.integer(at: 22, "sectors per FAT (16-bit)")
        let totalSectors32: UInt32 = try sector.integer(at: 32, "total sectors (32-bit)")
        let fatSize32: UInt32 = try sector.integer(at: 36, "sectors per FAT (32-bit)")
        guard jump == 0xEB || jump == 0xE9,
              isPowerOfTwo(bytesPerSector, in: 512 ... 4096),
              isPowerOfTwo(sectorsPerCluster, in: 1 ... 128),
              reservedSectors > 0, fatCount > 0, media == 0xF0 || media >= 0xF8
        else { return nil }

        let kind: VolumeKind
        let extendedBPB: Int
        if fatSize16 == 0 {
            guard fatSize32 > 0 else { return nil }
            kind = .fat32
            extendedBPB = 64
        } else {
            // All factors are at most 32 bits wide: no 64-bit product overflows.
            let totalSectors = UInt64(totalSectors16 != 0 ? UInt32(totalSectors16) : totalSectors32)
            let rootSectors = (UInt64(rootEntries) * 32 + UInt64(bytesPerSector) - 1) / UInt64(bytesPerSector)
            let metadata = UInt64(reservedSectors) + UInt64(fatCount) * UInt64(fatSize16) + rootSectors
            guard totalSectors > metadata else { return nil }
            kind = (totalSectors - metadata) / UInt64(sectorsPerCluster) < 4085 ? .fat12 : .fat16
            extendedBPB = 36
        }
        // The label and serial exist only with the extended boot signature 0x29.
        let extendedSignature: UInt8 = try sector.integer(at: extendedBPB + 2, "extended boot signature")
        guard extendedSignature == 0x29 else {
            return VolumeInfo(kind: kind)
        }
        let serial: UInt32 = try sector.integer(at: extendedBPB + 3, "volume serial number")
        let label = try sector.text(at: extendedBPB + 7, count: 11, "volume label")
        let uuid = IdentifierText.hex(serial >> 16, digits: 4) + "-" + IdentifierText.hex(serial & 0xFFFF, digits: 4)
        return VolumeInfo(kind: kind, label: label == "NO NAME" ? nil : label, uuid: uuid.uppercased())
    }
}
