import BlockDevices
import PartitionTable
import TestSupport
import Testing

/// Filesystems made by their own tools, probed and compared with `blkid -p`.
@Suite struct VolumeProbeTests {
    static let uuid = "0b2a6e5c-3f4d-4e8a-9c1b-7d6e5f4a3b2c"

    /// The probe of `image`, checked against blkid's TYPE (`blkidType`), LABEL and UUID.
    static func expectProbe(_ image: String, kind: VolumeKind, blkidType: String) throws -> VolumeInfo {
        let info = VolumeProbe.probe(try device(image))
        let blkid = try blkid(image)
        #expect(info.kind == kind)
        #expect(blkid["TYPE"] == blkidType)
        #expect(info.label == blkid["LABEL"])
        #expect(info.uuid == blkid["UUID"])
        return info
    }

    @Test(arguments: [VolumeKind.ext2, .ext3, .ext4])
    func extFromMke2fs(kind: VolumeKind) throws {
        let scratch = try TemporaryDirectory()
        let image = try scratch.image("ext.img", size: 8 << 20)
        try Shell.check("mke2fs", ["-q", "-F", "-t", kind.rawValue, "-L", "label-\(kind.rawValue)", "-U", Self.uuid, image])
        let info = try Self.expectProbe(image, kind: kind, blkidType: kind.rawValue)
        #expect(info == VolumeInfo(kind: kind, label: "label-\(kind.rawValue)", uuid: Self.uuid))
        #expect(kind.isReadable && !kind.isGuestEncryption)
    }

    @Test func ext4WithoutJournalIsStillExt4() throws {
        let scratch = try TemporaryDirectory()
        let image = try scratch.image("ext.img", size: 8 << 20)
        try Shell.check("mke2fs", ["-q", "-F", "-t", "ext4", "-O", "^has_journal", image])
        _ = try Self.expectProbe(image, kind: .ext4, blkidType: "ext4")
    }

    @Test func ntfsFromMkntfs() throws {
        let scratch = try TemporaryDirectory()
        let image = try scratch.image("ntfs.img", size: 8 << 20)
        try Shell.check("mkntfs", ["-F", "-Q", "-q", "-L", "windows", image])
        let info = VolumeProbe.probe(try device(image))
        let blkid = try blkid(image)
        #expect(info.kind == .ntfs)
        #expect(blkid["TYPE"] == "ntfs")
        // The label lives in the $Volume file, not in the boot sector: not read yet.
        #expect(info.uuid == blkid["UUID"])
        #expect(info.uuid?.count == 16)
    }

    @Test(arguments: [(12, VolumeKind.fat12, UInt64(2 << 20)), (16, .fat16, 16 << 20), (32, .fat32, 64 << 20)])
    func fatFromMkfsVfat(bits: Int, kind: VolumeKind, size: UInt64) throws {
        let scratch = try TemporaryDirectory()
        let image = try scratch.image("fat.img", size: size)
        try Shell.check("mkfs.vfat", ["-F", "\(bits)", "-n", "FAT\(bits)", "-i", "1234ABCD", image])
        let info = try Self.expectProbe(image, kind: kind, blkidType: "vfat")
        #expect(info == VolumeInfo(kind: kind, label: "FAT\(bits)", uuid: "1234-ABCD"))
        #expect(try blkid(image)["VERSION"] == "FAT\(bits)")
        #expect(!kind.isReadable)
    }

    @Test func xfsFromMkfsXfs() throws {
        let scratch = try TemporaryDirectory()
        let image = try scratch.image("xfs.img", size: 300 << 20)
        try Shell.check("mkfs.xfs", ["-q", "-L", "xfslabel", "-m", "uuid=\(Self.uuid)", image])
        #expect(try Self.expectProbe(image, kind: .xfs, blkidType: "xfs") == VolumeInfo(kind: .xfs, label: "xfslabel", uuid: Self.uuid))
    }

    @Test func btrfsFromMkfsBtrfs() throws {
        let scratch = try TemporaryDirectory()
        let image = try scratch.image("btrfs.img", size: 128 << 20)
        try Shell.check("mkfs.btrfs", ["-q", "-L", "btrfslabel", "-U", Self.uuid, image])
        #expect(try Self.expectProbe(image, kind: .btrfs, blkidType: "btrfs") == VolumeInfo(kind: .btrfs, label: "btrfslabel", uuid: Self.uuid))
    }

    @Test(arguments: [4096, 65536])
    func swapFromMkswap(pageSize: Int) throws {
        let scratch = try TemporaryDirectory()
        let image = try scratch.image("swap.img", size: 4 << 20)
        try Shell.check("mkswap", ["-q", "-p", "\(pageSize)", "-L", "swaplabel", "-U", Self.uuid, image])
        #expect(try Self.expectProbe(image, kind: .swap, blkidType: "swap") == VolumeInfo(kind: .swap, label: "swaplabel", uuid: Self.uuid))
    }

    @Test func lvm2PhysicalVolume() throws {
        let scratch = try TemporaryDirectory()
        let image = try scratch.fixture("partitions", "lvm2-pv.img")
        let info = try Self.expectProbe(image, kind: .lvm2, blkidType: "LVM2_member")
        #expect(info.uuid == "rpfsPV-0000-1111-2222-3333-4444-555555")
        #expect(!VolumeKind.lvm2.isReadable)
    }

    @Test func unpartitionedDisksAreOneVolume() throws {
        let scratch = try TemporaryDirectory()
        let ext = try scratch.image("ext.img", size: 8 << 20)
        try Shell.check("mke2fs", ["-q", "-F", "-t", "ext4", "-L", "whole", ext])
        let ntfs = try scratch.image("ntfs.img", size: 8 << 20)
        try Shell.check("mkntfs", ["-F", "-Q", "-q", ntfs])
        let fat = try scratch.image("fat.img", size: 16 << 20)
        try Shell.check("mkfs.vfat", ["-F", "16", fat])
        // NTFS and FAT boot sectors end in 0x55AA like an MBR; they must not be read as one.
        for (image, kind) in [(ext, VolumeKind.ext4), (ntfs, .ntfs), (fat, .fat16)] {
            let disk = try device(image)
            let table = try PartitionTable.read(disk)
            #expect(table.scheme == .none)
            #expect(table.partitions.isEmpty)
            let volumes = try table.volumes(on: disk)
            #expect(volumes.map(\.name) == ["volume"])
            #expect(volumes.first?.device.size == disk.size)
            #expect(volumes.first.map { VolumeProbe.probe($0.device).kind } == kind)
        }
    }

    @Test func unreadableOrTinyVolumesAreUnknownWithAReason() throws {
        let tiny = VolumeProbe.probe(MemoryDisk(size: 100))
        #expect(tiny.kind == .unknown)
        #expect(tiny.detail == "too small for any filesystem (100 bytes)")
        let failing = VolumeProbe.probe(FailingDisk(size: 1 << 20))
        #expect(failing.kind == .unknown)
        #expect(failing.detail?.hasPrefix("cannot read the volume's first bytes") == true)
        let blank = VolumeProbe.probe(MemoryDisk(size: 1 << 20))
        #expect(blank == VolumeInfo(kind: .unknown, detail: "no known signature"))
        #expect(VolumeProbe.probe(MemoryDisk(size: 0)).kind == .unknown)
        #expect(throws: PartitionTableError.self) { try PartitionTable.read(FailingDisk(size: 1 << 20)) }
        #expect(try PartitionTable.read(MemoryDisk(size: 0)).scheme == .none)
    }

    @Test func displayNames() {
        #expect(VolumeKind.bitlockerToGo.displayName == "BitLocker To Go")
        #expect(VolumeKind.luks2.displayName == "LUKS2")
        #expect(VolumeKind.allCases.filter(\.isReadable) == [.ext2, .ext3, .ext4, .ntfs, .xfs])
        #expect(VolumeKind.allCases.filter(\.isGuestEncryption) == [.bitlocker, .bitlockerToGo, .luks1, .luks2])
    }
}
