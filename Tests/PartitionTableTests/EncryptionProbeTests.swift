import PartitionTable
import TestSupport
import Testing

/// Volumes the guest encrypted itself: LUKS from cryptsetup, BitLocker from the corpus and by hand.
@Suite struct EncryptionProbeTests {
    static let uuid = "5a1e2b3c-4d5e-4f60-8172-93a4b5c6d7e8"

    static func luksImage(_ scratch: TemporaryDirectory, type: String, extra: [String] = []) throws -> String {
        let image = try scratch.image("\(type).img", size: 20 << 20)
        let key = try scratch.write("key", Array("not a secret, only a test key".utf8))
        try Shell.check("cryptsetup", ["luksFormat", "--type", type, "--batch-mode", "--pbkdf", "pbkdf2",
                                    "--pbkdf-force-iterations", "1000", "--uuid", uuid, "--key-file", key] + extra + [image])
        return image
    }

    @Test func luks1() throws {
        let scratch = try TemporaryDirectory()
        let image = try Self.luksImage(scratch, type: "luks1")
        #expect(VolumeProbe.probe(try device(image)) == VolumeInfo(kind: .luks1, uuid: Self.uuid))
        #expect(try blkid(image)["VERSION"] == "1")
        #expect(try PartitionTable.read(try device(image)).scheme == .none)
    }

    @Test func luks2WithLabel() throws {
        let scratch = try TemporaryDirectory()
        let image = try Self.luksImage(scratch, type: "luks2", extra: ["--label", "cryptroot"])
        let info = VolumeProbe.probe(try device(image))
        #expect(info == VolumeInfo(kind: .luks2, label: "cryptroot", uuid: Self.uuid))
        #expect(try blkid(image)["UUID"] == info.uuid)
        #expect(info.kind.isGuestEncryption && !info.kind.isReadable)
    }

    /// The secondary header sits right after the primary area, whose size cryptsetup lets one choose.
    @Test(arguments: ["16k", "64k", "4m"])
    func luks2WithPrimaryHeaderZeroed(metadataSize: String) throws {
        let scratch = try TemporaryDirectory()
        let path = try Self.luksImage(scratch, type: "luks2", extra: ["--label", "cryptroot", "--luks2-metadata-size", metadataSize])
        var disk = MemoryDisk(try readFile(path))
        disk.write([UInt8](repeating: 0, count: 4096), at: 0)
        let info = VolumeProbe.probe(disk)
        #expect(info.kind == .luks2)
        #expect(info.uuid == Self.uuid)
        #expect(info.label == "cryptroot")
        let offset = ["16k": 16384, "64k": 65536, "4m": 4 << 20][metadataSize] ?? 0
        #expect(info.detail == "primary LUKS2 header missing or damaged; found by its secondary header at byte \(offset)")
    }

    @Test func corpusBitLockerToGoTruncated() throws {
        let scratch = try TemporaryDirectory()
        let image = try scratch.fixture("encrypted", "dfvfs-bdetogo-truncated.img")
        let disk = try device(image)
        // README: blkid calls it vfat, and sfdisk finds a "partition table" in its boot sector.
        #expect(try blkid(image)["TYPE"] == "vfat")
        #expect(try Sfdisk.read(image).label == "dos")
        let table = try PartitionTable.read(disk)
        #expect(table.scheme == .none)
        let volumes = try table.volumes(on: disk)
        #expect(volumes.map(\.name) == ["volume"])
        let info = try #require(volumes.first.map { VolumeProbe.probe($0.device) })
        #expect(info.kind == .bitlockerToGo)
        #expect(info.kind.displayName == "BitLocker To Go")
        #expect(info.kind.isGuestEncryption)
    }

    /// A BitLocker boot sector as Windows writes it: an NTFS-like BPB under the "-FVE-FS-" OEM id.
    static func bitlockerSector() -> [UInt8] {
        var sector = MemoryDisk(size: 512)
        sector.write([0xEB, 0x58, 0x90] + Array("-FVE-FS-".utf8), at: 0)
        sector.writeLE(UInt16(512), at: 11)
        sector.write([8], at: 13)
        sector.write([0xF8], at: 21)
        sector.write(GPTBuilder.guid("4967D63B-2E29-4AD8-8399-F6A339E3D001"), at: 160)
        sector.write([0x55, 0xAA], at: 510)
        return sector.bytes
    }

    @Test func syntheticBitLockerBootSector() throws {
        var whole = MemoryDisk(size: 1 << 20)
        whole.write(Self.bitlockerSector(), at: 0)
        #expect(try PartitionTable.read(whole).scheme == .none)
        #expect(VolumeProbe.probe(whole) == VolumeInfo(kind: .bitlocker))

        // The same volume as MBR partition 2, the way Windows lays out a system disk.
        var disk = MemoryDisk(size: 2 << 20)
        disk.write([0x55, 0xAA], at: 510)
        MBRTests.writeEntry(&disk, slot: 0, type: 0x07, start: 2048, count: 512)
        MBRTests.writeEntry(&disk, slot: 1, type: 0x07, start: 2560, count: 1536)
        disk.write(Self.bitlockerSector(), at: 2560 * 512)
        #expect(try probe("part2", on: disk) == VolumeInfo(kind: .bitlocker))
        #expect(try probe("part1", on: disk)?.kind == .unknown)
    }
}
