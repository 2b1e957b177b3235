import PartitionTable
import TestSupport
import Testing

@Suite struct MBRTests {
    /// Three primaries, an extended partition with three logicals, and a primary after it.
    static let script = """
        label: dos
        label-id: 0x1234abcd
        start=2048, size=4096, type=83, bootable
        start=6144, size=2048, type=7
        start=8192, size=16384, type=5
        start=24576, size=2048, type=c
        start=10240, size=2048, type=83
        start=14336, size=2048, type=82
        start=18432, size=4096, type=8e
        """

    static func sfdiskImage(_ scratch: TemporaryDirectory) throws -> String {
        let image = try scratch.image("mbr.img", size: 16 << 20)
        try Shell.check("sfdisk", ["-q", image], input: script)
        return image
    }

    @Test func primariesAndLogicalsMatchSfdisk() throws {
        let scratch = try TemporaryDirectory()
        let image = try Self.sfdiskImage(scratch)
        let disk = try device(image)
        let table = try PartitionTable.read(disk)
        let reference = try Sfdisk.read(image)

        #expect(table.scheme == .mbr)
        #expect(table.sectorSize == 512)
        #expect(table.identifier == "0x1234abcd")
        #expect(table.identifier == reference.identifier)
        #expect(table.references == reference.partitions)
        #expect(table.partitions.map(\.number) == [1, 2, 3, 4, 5, 6, 7])
        #expect(table.partitions[0].bootable)
        #expect(table.partitions[2].type.isExtendedContainer)
        #expect(table.partitions[5].type.readableName == "Linux swap")
        #expect(table.anomalies.isEmpty)
        // The extended container is no volume.
        #expect(try table.volumes(on: disk).map(\.name) == ["part1", "part2", "part4", "part5", "part6", "part7"])
    }

    @Test func logicalPartitionsHoldTheirFilesystems() throws {
        let scratch = try TemporaryDirectory()
        let image = try Self.sfdiskImage(scratch)
        try Shell.check("mke2fs", ["-q", "-F", "-t", "ext4", "-L", "logical5", "-E", "offset=\(10240 * 512)", image, "1024"])
        let swap = try scratch.image("swap.img", size: 1 << 20)
        try Shell.check("mkswap", ["-q", "-L", "logical6", swap])
        try splice(swap, into: image, at: 14336 * 512)

        let disk = try device(image)
        #expect(try probe("part5", on: disk) == VolumeInfo(kind: .ext4, label: "logical5", uuid: try blkid(image, offset: 10240 * 512)["UUID"]))
        #expect(try probe("part6", on: disk)?.kind == .swap)
        #expect(try probe("part6", on: disk)?.label == "logical6")
        #expect(try probe("part7", on: disk)?.kind == .unknown)
    }

    @Test func corpusLogicalChainMatchesSfdiskAndItsReadme() throws {
        let scratch = try TemporaryDirectory()
        let image = try scratch.fixture("partitions", "mbrman-disk2-logical.img")
        let table = try PartitionTable.read(try device(image))
        #expect(table.references == (try Sfdisk.read(image)).partitions)
        // README: primary 1 (1+3), extended 2 (5+15), logicals 5 (6+1), 6 (8+2), 7 (11+3).
        let bySector = table.partitions.map { [$0.number, Int($0.start / 512), Int($0.size / 512)] }
        #expect(bySector.prefix(5) == [[1, 1, 3], [2, 5, 15], [5, 6, 1], [6, 8, 2], [7, 11, 3]])
        #expect(table.anomalies.isEmpty)
    }

    @Test func corpusExt3PrimaryAndExt4Logical() throws {
        let scratch = try TemporaryDirectory()
        let image = try scratch.fixture("partitions", "dfvfs-mbr-ext3-ext4logical.img")
        let disk = try device(image)
        let table = try PartitionTable.read(disk)
        #expect(table.references == (try Sfdisk.read(image)).partitions)
        // README: ext3 primary at sector 1, extended at 130, ext4 logical 5 at 131.
        #expect(table.partitions.map { [$0.number, Int($0.start / 512)] } == [[1, 1], [2, 130], [5, 131]])
        // The README calls partition 1 ext3, but it has no journal: blkid, like the probe, says ext2.
        for (name, sector) in [("part1", 1), ("part5", 131)] {
            let blkid = try blkid(image, offset: UInt64(sector * 512))
            let info = try probe(name, on: disk)
            #expect(info?.kind.rawValue == blkid["TYPE"])
            #expect(info?.label == blkid["LABEL"])
            #expect(info?.uuid == blkid["UUID"])
        }
        #expect(try probe("part1", on: disk)?.kind == .ext2)
        #expect(try probe("part5", on: disk)?.kind == .ext4)
        #expect(try table.volumes(on: disk).map(\.name) == ["part1", "part5"])
    }

    @Test func loopingEBRChainIsReportedAndCut() throws {
        let scratch = try TemporaryDirectory()
        var disk = MemoryDisk(try readFile(try Self.sfdiskImage(scratch)))
        // Point the last EBR's link back to the first EBR.
        let extendedStart = 8192
        var ebr = extendedStart
        while true {
            let link = ebr * 512 + 446 + 16
            let next = Int(disk.bytes[link + 8]) | Int(disk.bytes[link + 9]) << 8 | Int(disk.bytes[link + 10]) << 16
            guard disk.bytes[link + 4] != 0 else { break }
            ebr = extendedStart + next
        }
        disk.write([0x05], at: ebr * 512 + 446 + 16 + 4)
        disk.writeLE(UInt32(0), at: ebr * 512 + 446 + 16 + 8)
        disk.writeLE(UInt32(1), at: ebr * 512 + 446 + 16 + 12)

        let table = try PartitionTable.read(disk)
        #expect(table.partitions.map(\.number) == [1, 2, 3, 4, 5, 6, 7])
        #expect(table.anomalies == ["EBR chain loops at sector 8192: stopped"])
    }

    @Test func entriesPastTheEndAreReportedNotFollowed() throws {
        var disk = MemoryDisk(size: 1 << 20) // 2048 sectors
        disk.write([0x55, 0xAA], at: 510)
        Self.writeEntry(&disk, slot: 0, type: 0x83, start: 2, count: 100)
        Self.writeEntry(&disk, slot: 1, type: 0x83, start: 2000, count: 100) // ends past 2048
        Self.writeEntry(&disk, slot: 2, type: 0x05, start: 0xFFFF_FF00, count: 10) // extended past the end
        Self.writeEntry(&disk, slot: 3, type: 0x07, start: 200, count: 1848) // ends exactly at the end

        let table = try PartitionTable.read(disk)
        #expect(table.partitions.map(\.number) == [1, 4])
        #expect(table.anomalies == [
            "partition 2 extends past the end of the disk: not followed",
            "partition 3 extends past the end of the disk: not followed",
        ])
    }

    @Test func ebrLinkPastTheEndIsNotFollowed() throws {
        var disk = MemoryDisk(size: 1 << 20)
        disk.write([0x55, 0xAA], at: 510)
        Self.writeEntry(&disk, slot: 0, type: 0x05, start: 100, count: 1000)
        disk.write([0x55, 0xAA], at: 100 * 512 + 510)
        Self.writeEntry(&disk, slot: 0, type: 0x83, start: 1, count: 10, sector: 100)
        Self.writeEntry(&disk, slot: 1, type: 0x05, start: 0x7FFF_0000, count: 10, sector: 100)

        let table = try PartitionTable.read(disk)
        #expect(table.partitions.map(\.number) == [1, 5])
        #expect(table.anomalies == ["EBR at sector \(100 + 0x7FFF_0000) lies past the end of the disk: not followed"])
    }

    @Test func overlongEBRChainIsCapped() throws {
        var disk = MemoryDisk(size: 1 << 20)
        disk.write([0x55, 0xAA], at: 510)
        Self.writeEntry(&disk, slot: 0, type: 0x05, start: 10, count: 2000)
        for index in 0 ..< 200 {
            let ebr = 10 + 4 * index
            disk.write([0x55, 0xAA], at: ebr * 512 + 510)
            Self.writeEntry(&disk, slot: 0, type: 0x83, start: 1, count: 2, sector: ebr)
            Self.writeEntry(&disk, slot: 1, type: 0x05, start: UInt32(4 * (index + 1)), count: 4, sector: ebr)
        }
        let table = try PartitionTable.read(disk)
        #expect(table.partitions.count == 1 + 128)
        #expect(table.partitions.last?.number == 132)
        #expect(table.anomalies == ["EBR chain longer than 128 EBRs: stopped at sector \(10 + 4 * 128)"])
    }

    @Test func overlappingPartitionsAreReported() throws {
        var disk = MemoryDisk(size: 1 << 20)
        disk.write([0x55, 0xAA], at: 510)
        Self.writeEntry(&disk, slot: 0, type: 0x83, start: 10, count: 100)
        Self.writeEntry(&disk, slot: 1, type: 0x83, start: 50, count: 10)
        let table = try PartitionTable.read(disk)
        #expect(table.partitions.count == 2)
        #expect(table.anomalies == ["partitions 1 and 2 overlap"])
    }

    @Test func bootCodeWithBadBootFlagsIsNoTable() throws {
        var disk = MemoryDisk(size: 1 << 20)
        disk.write([0x55, 0xAA], at: 510)
        Self.writeEntry(&disk, slot: 0, type: 0x83, start: 10, count: 100)
        disk.write([0x42], at: 446 + 16) // slot 2's boot flag
        let table = try PartitionTable.read(disk)
        #expect(table.scheme == .none)
        #expect(table.anomalies.count == 1)
        #expect(try table.volumes(on: disk).map(\.name) == ["volume"])
    }

    static func writeEntry(_ disk: inout MemoryDisk, slot: Int, type: UInt8, start: UInt32, count: UInt32, sector: Int = 0) {
        let base = sector * 512 + 446 + 16 * slot
        disk.write([type], at: base + 4)
        disk.writeLE(start, at: base + 8)
        disk.writeLE(count, at: base + 12)
    }
}
