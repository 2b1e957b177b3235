import BlockDevices
import ByteParsing
import Foundation
import LVM
import TestSupport
import Testing

/// Damage to what lvm2 wrote: a metadata copy that fails its checksum falls back to another,
/// and one with no usable copy says why.
@Suite(.serialized) struct DamageTests {
    /// One disk, one PV with two metadata areas (`--pvmetadatacopies 2`: one after the label,
    /// one at the end of the disk), one LV of known bytes.
    final class TwoCopies {
        let directory: TemporaryDirectory
        let disk: String
        let builder: LVMBuilder
        let contents: [UInt8]

        init() throws {
            let directory = try TemporaryDirectory("rpfs-lvm-damage")
            self.directory = directory
            disk = try directory.image("pv.img", size: 32 << 20)
            builder = try LVMBuilder(name: LVMBuilder.uniqueName("rpfsdmg"), pvs: [(disk, 0, 32 << 20)], arguments: ["--pvmetadatacopies", "2"])
            try builder.createVolume("lv", size: "8M")
            var random = SeededBytes(seed: 5)
            contents = random.bytes(8 << 20)
            try builder.write(contents, to: "lv")
            builder.detach()
        }

        /// Overwrites every "seqno" in the disk's first MiB (where the first area is; the
        /// second is at the end), so that the first copy's text no longer matches its CRC.
        func damageFirstCopy() throws -> Int {
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: disk)))
            let needle = Array("seqno".utf8)
            var hits = 0
            for index in 0 ..< (1 << 20) - needle.count where Array(bytes[index ..< index + needle.count]) == needle {
                bytes[index + 4] = UInt8(ascii: "X")
                hits += 1
            }
            try Data(bytes).write(to: URL(fileURLWithPath: disk))
            return hits
        }

        func assemble() throws -> VolumeGroupAssembly {
            VolumeGroupAssembly.assemble([.init(location: "/disk0/volume", device: try FileBlockDevice(path: disk))])
        }
    }

    @Test func aDamagedFirstCopyFallsBackToTheSecond() throws {
        let setup = try TwoCopies()
        #expect(try setup.damageFirstCopy() > 0)
        let assembly = try setup.assemble()
        let group = try #require(assembly.volumeGroups.first)
        #expect(group.name == setup.builder.name)
        #expect(group.notes.count == 1)
        #expect(group.notes.first?.contains("/disk0/volume metadata area 1") == true, "\(group.notes)")
        #expect(group.notes.first?.contains("CRC") == true, "\(group.notes)")
        let volume = try #require(group.logicalVolumes.first)
        #expect(try volume.device.read(at: 0, count: setup.contents.count) == setup.contents)
        #expect(assembly.physicalVolumes.first?.problem == nil)
    }

    @Test func withEveryCopyDamagedThePVSaysWhy() throws {
        let setup = try TwoCopies()
        #expect(try setup.damageFirstCopy() > 0)
        // The second area is in the disk's last MiB: damage it the same way.
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: setup.disk)))
        let needle = Array("seqno".utf8)
        for index in bytes.count - (1 << 20) ..< bytes.count - needle.count where Array(bytes[index ..< index + needle.count]) == needle {
            bytes[index + 4] = UInt8(ascii: "X")
        }
        try Data(bytes).write(to: URL(fileURLWithPath: setup.disk))
        let assembly = try setup.assemble()
        #expect(assembly.volumeGroups.isEmpty)
        guard case let .noUsableMetadata(reasons)? = assembly.physicalVolumes.first?.problem else {
            Issue.record("\(String(describing: assembly.physicalVolumes.first))")
            return
        }
        #expect(reasons.count == 2)
    }

    @Test func aDamagedLabelIsAnErrorNotAnotherVolume() throws {
        let setup = try TwoCopies()
        var head = try FileBlockDevice(path: setup.disk).read(at: 0, count: 2048)
        #expect(try PhysicalVolumeLabel.parse(head) != nil)
        // The PV UUID is inside the label's CRC.
        head[512 + 40] ^= 0x01
        #expect(throws: LVMError.self) { try PhysicalVolumeLabel.parse(head) }
        // A label recording another sector is a PV further in (in a partition), not this one.
        var moved = [UInt8](repeating: 0, count: 2048)
        moved[1024 ..< 1536] = head[512 ..< 1024]
        #expect(try PhysicalVolumeLabel.parse(moved) == nil)
    }

    @Test func anOlderCopyOnAnotherPVLosesToTheNewestAndIsNoted() throws {
        let directory = try TemporaryDirectory("rpfs-lvm-seqno")
        let disks = try ["a.img", "b.img"].map { try directory.image($0, size: 32 << 20) }
        let builder = try LVMBuilder(name: LVMBuilder.uniqueName("rpfsseq"), pvs: disks.map { ($0, 0, 32 << 20) })
        try builder.createVolume("first", size: "4M")
        // disk0 as it was before the second LV: its metadata copy, the first found, stays at that seqno.
        let stale = try Data(contentsOf: URL(fileURLWithPath: disks[0]))
        try builder.createVolume("second", size: "4M", on: [1])
        let reported = try builder.volumeReport().map(\.name)
        builder.detach()
        try stale.write(to: URL(fileURLWithPath: disks[0]))

        let group = try #require(VolumeGroupAssembly.assemble(try disks.enumerated().map { index, disk in
            .init(location: "/disk\(index)/volume", device: try FileBlockDevice(path: disk))
        }).volumeGroups.first)
        #expect(group.logicalVolumes.map(\.name).sorted() == reported.sorted())
        #expect(group.notes.count == 1)
        #expect(group.notes.first?.contains("/disk0/volume metadata area 1 holds older metadata") == true, "\(group.notes)")
    }

    /// The assembly of `bytes` as the only PV: what it says of the PV.
    private func problem(_ bytes: [UInt8], in directory: TemporaryDirectory) throws -> String? {
        let path = try directory.write("patched-\(bytes.count).img", bytes)
        let assembly = VolumeGroupAssembly.assemble([.init(location: "/disk0/volume", device: try FileBlockDevice(path: path))])
        #expect(assembly.volumeGroups.isEmpty)
        return assembly.physicalVolumes.first?.problem.map { "\($0)" }
    }

    @Test func aTruncatedPVOrAHugeMetadataSizeIsAClearError() throws {
        let setup = try TwoCopies()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: setup.disk)))
        let label = try #require(try PhysicalVolumeLabel.parse(Array(bytes[0 ..< 2048])))
        let area = try #require(label.metadataAreas.first)
        // Cut before the first area's text: both copies are out of reach.
        let truncated = try problem(Array(bytes[0 ..< Int(area.offset) + 1024]), in: setup.directory)
        #expect(truncated?.contains("outside the device") == true, "\(String(describing: truncated))")
        // The first copy claims a terabyte of text (header CRC made right), the second is cut off.
        var huge = Array(bytes[0 ..< Int(area.offset) + Int(area.size)])
        let header = Int(area.offset)
        for (index, byte) in withUnsafeBytes(of: UInt64(1 << 40).littleEndian, Array.init).enumerated() { huge[header + 48 + index] = byte }
        let crc = CRC32.update(0xF597_A6CF, with: huge[header + 4 ..< header + 512])
        for (index, byte) in withUnsafeBytes(of: crc.littleEndian, Array.init).enumerated() { huge[header + index] = byte }
        let hugeProblem = try problem(huge, in: setup.directory)
        #expect(hugeProblem?.contains("do not fit") == true, "\(String(describing: hugeProblem))")
    }
}
