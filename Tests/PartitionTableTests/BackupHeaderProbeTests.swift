import BlockDevices
import Foundation
import PartitionTable
import TestSupport
import Testing

/// A volume whose first bytes are damaged is still identified, by the backup copy of its
/// header that the format keeps elsewhere; where dumpe2fs and the NTFS boot sector put it.
@Suite struct BackupHeaderProbeTests {
    @Test(arguments: [1024, 2048, 4096])
    func extIsFoundByTheBackupSuperblockOfGroupOne(blockSize: Int) throws {
        let scratch = try TemporaryDirectory()
        // Two and a half groups of the default size: mke2fs shrinks the groups of a volume
        // whose last group would be too small, and the probe looks only where default
        // groups put the backup.
        let image = try scratch.image("ext.img", size: UInt64(blockSize) * UInt64(blockSize) * 8 * 5 / 2)
        try Shell.check("mke2fs", ["-q", "-F", "-t", "ext4", "-b", "\(blockSize)", "-L", "root", "-U", VolumeProbeTests.uuid, image])
        // dumpe2fs names the first backup: "Backup superblock at 8193, Group descriptors at 8194-8194".
        let dump = try Shell.check("dumpe2fs", [image])
        let line = try #require(dump.split(separator: "\n").first { $0.contains("Backup superblock at ") })
        let block = try #require(UInt64(line.split(separator: " ").drop { $0 != "at" }.dropFirst().first?.trimmingCharacters(in: .punctuationCharacters) ?? ""))

        let pristine = VolumeProbe.probe(try FileBlockDevice(path: image))
        let (info, unreadable) = VolumeProbe.identify(try DamagedDevice(path: image, damaged: [0 ..< 4096]))
        #expect(unreadable == nil)
        #expect(info.kind == .ext4 && info.label == "root" && info.uuid == pristine.uuid)
        #expect(info.backup == BackupHeader(structure: "ext superblock", offset: block * UInt64(blockSize), unit: UInt32(blockSize)))
        #expect(info.detail?.contains("using the backup at byte \(block * UInt64(blockSize))") == true, "\(String(describing: info.detail))")
    }

    /// One block group has no backup: the damage stays the answer.
    @Test func extWithoutASecondGroupStaysUnreadable() throws {
        let scratch = try TemporaryDirectory()
        let image = try scratch.image("ext.img", size: 8 << 20)
        try Shell.check("mke2fs", ["-q", "-F", "-t", "ext4", "-b", "4096", image])
        let (info, unreadable) = VolumeProbe.identify(try DamagedDevice(path: image, damaged: [0 ..< 4096]))
        #expect(info.kind == .unknown)
        #expect(unreadable?.isDamage == true)
    }

    @Test func ntfsIsFoundByItsBootSectorCopyInTheLastSector() throws {
        let scratch = try TemporaryDirectory()
        let image = try scratch.image("ntfs.img", size: 8 << 20)
        try Shell.check("mkntfs", ["-F", "-Q", "-q", image])
        let pristine = VolumeProbe.probe(try FileBlockDevice(path: image))
        let device = try DamagedDevice(path: image, damaged: [0 ..< 512])
        let (info, unreadable) = VolumeProbe.identify(device)
        #expect(unreadable == nil)
        #expect(info.kind == .ntfs && info.uuid == pristine.uuid)
        #expect(info.backup == BackupHeader(structure: "NTFS boot sector", offset: device.size - 512, unit: 512))
    }

    /// Damage over both copies: nothing is made up.
    @Test func ntfsWithBothBootSectorsDamagedStaysUnreadable() throws {
        let scratch = try TemporaryDirectory()
        let image = try scratch.image("ntfs.img", size: 8 << 20)
        try Shell.check("mkntfs", ["-F", "-Q", "-q", image])
        let size = try FileBlockDevice(path: image).size
        let (info, unreadable) = VolumeProbe.identify(try DamagedDevice(path: image, damaged: [0 ..< 512, size - 512 ..< size]))
        #expect(info.kind == .unknown)
        #expect(unreadable?.isDamage == true)
    }
}
