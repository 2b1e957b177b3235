import BlockDevices
import ByteParsing

/// Tells what a volume holds from its own bytes, by signature, reading a few sectors. Never
/// throws: a read error, or a volume too small for any signature, gives `.unknown` with the
/// reason in `detail`.
public enum VolumeProbe {
    /// Every signature at a volume's start lies within its first 4 KiB.
    static let headSize = 4096

    public static func probe(_ volume: some BlockDevice) -> VolumeInfo {
        identify(volume).info
    }

    /// What `volume` holds, and the read error that kept its first bytes from being read
    /// (then the kind is `.unknown`): damage under a volume must not pass for an unknown volume.
    public static func identify(_ volume: some BlockDevice) -> (info: VolumeInfo, unreadable: DiskReadError?) {
        let head: [UInt8]
        do {
            head = try volume.read(at: 0, count: Int(min(volume.size, UInt64(headSize))))
        } catch {
            if error.isDamage, let info = identifyByBackup(volume, primaryFailure: error) {
                return (info, nil)
            }
            return (VolumeInfo(kind: .unknown, detail: "cannot read the volume's first bytes: \(error)"), error)
        }
        if let info = identifyStart(head) ?? identifyFurther(volume, head: ByteReader(head)) {
            return (info, nil)
        }
        // Below one sector no signature fits.
        let tooSmall = volume.size < 512
        return (VolumeInfo(kind: .unknown, detail: tooSmall ? "too small for any filesystem (\(volume.size) bytes)" : "no known signature"), nil)
    }

    /// `identify`, told the partition's type: a volume whose bytes match no signature in a
    /// Storage Spaces partition is that pool's member (its metadata is not parsed).
    public static func identify(_ volume: some BlockDevice, type: PartitionType?) -> (info: VolumeInfo, unreadable: DiskReadError?) {
        let found = identify(volume)
        guard found.unreadable == nil, found.info.kind == .unknown, type?.isStorageSpaces == true else { return found }
        return (VolumeInfo(kind: .storageSpaces), nil)
    }

    /// Signatures in the first 4 KiB. Those at byte 0 come first: they are the newest
    /// format's, while bytes further in may be left over from an earlier one.
    static func identifyStart(_ head: [UInt8]) -> VolumeInfo? {
        let reader = ByteReader(head)
        return LUKSHeader.identify(reader)
            ?? BootSector.identify(reader)
            ?? XFSSuperblock.identify(reader)
            ?? ExtSuperblock.identify(reader)
            // With 4 KiB pages the swap magic ends the head.
            ?? SwapHeader.identify(reader, magic: try? reader.bytes(at: headSize - SwapHeader.magicSize, count: SwapHeader.magicSize, "swap magic"))
            ?? LVMLabel.identify(reader)
    }

    /// Signatures further in, read only when the start told nothing: a LUKS2 volume whose
    /// primary header is gone, swap for pages larger than 4 KiB, Btrfs.
    private static func identifyFurther(_ volume: some BlockDevice, head: ByteReader) -> VolumeInfo? {
        for offset in LUKSHeader.secondaryOffsets {
            if let header = bytes(volume, at: offset, count: LUKSHeader.binaryHeaderSize),
               let info = LUKSHeader.identifySecondary(header, at: offset) {
                return info
            }
        }
        for pageSize in SwapHeader.largerPageSizes {
            let magic = bytes(volume, at: pageSize - UInt64(SwapHeader.magicSize), count: SwapHeader.magicSize)
            if let info = SwapHeader.identify(head, magic: magic?.bytes) { return info }
        }
        return bytes(volume, at: BtrfsSuperblock.offset, count: BtrfsSuperblock.size).flatMap(BtrfsSuperblock.identify)
    }

    /// A volume whose first bytes are damaged, told by the backup header its format keeps
    /// elsewhere: ext's superblock of group 1, NTFS's last-sector boot sector.
    private static func identifyByBackup(_ volume: some BlockDevice, primaryFailure: DiskReadError) -> VolumeInfo? {
        for candidate in ExtSuperblock.backupCandidates {
            if let copy = bytes(volume, at: candidate.offset, count: 1024),
               let info = ExtSuperblock.identifyBackup(copy, candidate: candidate) {
                return info.foundThroughBackup(candidate, primaryFailure: "\(primaryFailure)")
            }
        }
        for candidate in BootSector.ntfsBackupCandidates(volumeSize: volume.size) {
            if let copy = bytes(volume, at: candidate.offset, count: 512),
               let info = BootSector.identifyNTFSBackup(copy, at: candidate.offset) {
                return info.foundThroughBackup(candidate, primaryFailure: "\(primaryFailure)")
            }
        }
        return nil
    }

    /// `count` bytes at `offset`, or nil when they are not all inside the volume or cannot be read.
    private static func bytes(_ volume: some BlockDevice, at offset: UInt64, count: Int) -> ByteReader? {
        guard offset <= volume.size, UInt64(count) <= volume.size - offset,
              let bytes = try? volume.read(at: offset, count: count)
        else { return nil }
        return ByteReader(bytes, origin: offset)
    }
}
