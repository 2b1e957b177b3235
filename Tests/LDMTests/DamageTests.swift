import BlockDevices
import Foundation
import LDM
import TestSupport
import Testing

/// Damaged and hostile private regions: a copy that survives is used, otherwise a clear error.
@Suite struct DamageTests {
    /// Where the VMDB of a generated disk starts, in bytes.
    private func vmdbOffset(_ disk: LDMImageBuilder.Disk) -> UInt64 {
        (disk.privateStart + 17) * 512
    }

    private func overwrite(_ path: String, at offset: UInt64, with bytes: [UInt8]) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seek(toOffset: offset)
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
    }

    @Test func aDamagedFirstPrivheadIsReplacedByItsCopy() throws {
        let disks = try LDMDisks.make()
        for disk in disks.builder.disks { try overwrite(disk.path, at: 6 * 512, with: Array("NOTAHEAD".utf8)) }
        let group = try #require(DiskGroupAssembly.assemble(try disks.candidates()).groups.first)
        #expect(group.volumes.allSatisfy { $0.problem == nil })
        #expect(group.notes.contains { $0.contains("PRIVHEAD copy at byte 3072") && $0.contains("no PRIVHEAD signature") })
    }

    @Test func aLostFragmentOfARecordIsAClearErrorAsForLDMTool() throws {
        let disks = try LDMDisks.make()
        // Slots: the disk group, three disks, then the first volume's two fragments.
        for disk in disks.builder.disks {
            // The second fragment now claims another record number.
            try overwrite(disk.path, at: vmdbOffset(disk) + 512 + 5 * 128 + 8, with: [0, 0, 0x77, 0x77])
        }
        let result = try Shell.run("ldmtool", ["scan"] + disks.builder.disks.map(\.path))
        #expect(result.stderr.contains("Expected to find 2 entries for record"), "\(result.stderr)")
        let assembly = DiskGroupAssembly.assemble(try disks.candidates())
        #expect(assembly.groups.isEmpty)
        for outcome in assembly.disks {
            #expect(outcome.problem.map { "\($0)" }?.contains("fragment 1 of 2 is missing") == true, "\(String(describing: outcome.problem))")
        }
    }

    @Test func aVBLKListCutShortLeavesItsVolumeWithoutComponents() throws {
        let disks = try LDMDisks.make()
        // Slot 6 holds the first volume's component.
        for disk in disks.builder.disks {
            try overwrite(disk.path, at: vmdbOffset(disk) + 512 + 6 * 128, with: Array("XBLK".utf8))
        }
        let assembly = DiskGroupAssembly.assemble(try disks.candidates())
        let group = try #require(assembly.groups.first)
        // The VBLK list ends at the first block without the signature: no volume is complete.
        #expect(group.volumes.first.map { "\($0.problem.map { "\($0)" } ?? "")" }?.contains("components") == true)
    }

    @Test func mutatedPrivateRegionsNeverCrashTheParser() throws {
        let directory = try TemporaryDirectory("rpfs-ldm-mutated")
        // One small disk whose volumes take every layout, their partitions side by side on it.
        let builder = try LDMImageBuilder(in: directory, sizes: [4 << 20])
        builder.addEveryLayout(on: [0, 0, 0], size: 64, chunk: 16)
        try builder.writeMetadata()
        let disk = builder.disks[0]
        let original = try FileBlockDevice(path: disk.path)
        let regionStart = disk.privateStart * 512
        let region = try original.read(at: regionStart, count: 2048 * 512)
        let head = try original.read(at: 0, count: 8 * 512)
        let mutatedPath = directory.file("mutated.img")
        try FileManager.default.copyItem(atPath: disk.path, toPath: mutatedPath)
        var generator = SystemRandomNumberGenerator()
        for round in 0 ..< 300 {
            var mutated = region
            // Mostly the PRIVHEAD copies, the TOCBLOCKs and the VMDB with its first VBLKs.
            for _ in 0 ..< 1 + round % 8 {
                let at = [Int.random(in: 0 ..< 24 * 512, using: &generator), Int.random(in: 0 ..< mutated.count, using: &generator)][round % 2]
                mutated[at] = UInt8.random(in: 0 ... 255, using: &generator)
            }
            var headCopy = head
            headCopy[6 * 512 + Int.random(in: 0 ..< 512, using: &generator)] = UInt8.random(in: 0 ... 255, using: &generator)
            try overwrite(mutatedPath, at: 0, with: headCopy)
            try overwrite(mutatedPath, at: regionStart, with: mutated)
            let device = try FileBlockDevice(path: mutatedPath)
            let assembly = DiskGroupAssembly.assemble([.init(location: "/disk0", device: device, headerOffsets: [6 * 512, device.size - 512])])
            for volume in assembly.groups.flatMap(\.volumes) where volume.problem == nil {
                _ = try? volume.device.read(at: 0, count: Int(min(volume.device.size, 4096)))
            }
        }
    }
}
