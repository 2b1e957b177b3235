import PartitionTable
import TestSupport
import Testing

@Suite struct GPTTests {
    /// Seven partitions of the common types, with names (one not ASCII) and attributes.
    static func sgdiskImage(_ scratch: TemporaryDirectory, size: UInt64 = 8 << 20) throws -> String {
        let image = try scratch.image("gpt.img", size: size)
        try Shell.check("sgdisk", [
            "-o", "-a", "8",
            "-n", "1:2048:+1M", "-t", "1:8300", "-c", "1:root fs",
            "-n", "2:0:+1M", "-t", "2:8e00", "-c", "2:lvm",
            "-n", "3:0:+512K", "-t", "3:8200", "-c", "3:swap",
            "-n", "4:0:+512K", "-t", "4:ef00", "-c", "4:EFI System",
            "-n", "5:0:+512K", "-t", "5:0700", "-c", "5:Basic data",
            "-n", "6:0:+256K", "-t", "6:0c01", "-c", "6:Microsoft reserved partition",
            "-n", "8:0:+256K", "-t", "8:2700", "-c", "8:WinRE é",
            "-A", "1:set:0", "-A", "4:set:2", "-A", "5:set:60", "-A", "5:set:63",
            image,
        ])
        return image
    }

    @Test func sgdiskTableMatchesSfdisk() throws {
        let scratch = try TemporaryDirectory()
        let image = try Self.sgdiskImage(scratch)
        let disk = try device(image)
        let table = try PartitionTable.read(disk)
        let reference = try Sfdisk.read(image)

        #expect(table.scheme == .gpt(header: .primary))
        #expect(table.sectorSize == 512)
        #expect(table.identifier == reference.identifier)
        #expect(table.references == reference.partitions)
        #expect(table.anomalies.isEmpty)
        #expect(table.partitions.map(\.number) == [1, 2, 3, 4, 5, 6, 8])
        #expect(table.partitions.map(\.type.description) == [
            "Linux filesystem", "Linux LVM", "Linux swap", "EFI system", "Microsoft basic data",
            "Microsoft reserved", "Windows recovery",
        ])
        #expect(table.partitions.last?.name == "WinRE é")
        #expect(table.partitions[3].bootable)
        #expect(table.partitions[0].attributes == .requiredPartition)
        #expect(try table.volumes(on: disk).map(\.name) == ["part1", "part2", "part3", "part4", "part5", "part6", "part8"])
    }

    @Test func volumesOnGPTPartitionsAreProbed() throws {
        let scratch = try TemporaryDirectory()
        let image = try Self.sgdiskImage(scratch)
        try Shell.check("mke2fs", ["-q", "-F", "-t", "ext4", "-L", "gptroot", "-E", "offset=\(2048 * 512)", image, "1024"])
        let swap = try scratch.image("swap.img", size: 512 << 10)
        try Shell.check("mkswap", ["-q", swap])
        try splice(swap, into: image, at: 6144 * 512)
        let disk = try device(image)
        #expect(try probe("part1", on: disk) == VolumeInfo(kind: .ext4, label: "gptroot", uuid: try blkid(image, offset: 2048 * 512)["UUID"]))
        #expect(try probe("part3", on: disk)?.kind == .swap)
        #expect(try probe("part2", on: disk)?.kind == .unknown)
    }

    @Test func corpusNamesTypesAndAttributes() throws {
        let scratch = try TemporaryDirectory()
        for name in ["gptman-disk1.img", "gptman-disk3.img", "quyzi-gpt-disk.img"] {
            let image = try scratch.fixture("partitions", name)
            let table = try PartitionTable.read(try device(image))
            let reference = try Sfdisk.read(image)
            #expect(table.scheme == .gpt(header: .primary), "\(name)")
            #expect(table.identifier == reference.identifier, "\(name)")
            #expect(table.references == reference.partitions, "\(name)")
        }
        // README facts: "Foo" (Linux, LBA 34+10) and "Bar" (Microsoft basic data, LBA 48+5, LegacyBIOSBootable).
        let disk1 = try PartitionTable.read(try device(try scratch.fixture("partitions", "gptman-disk1.img")))
        #expect(disk1.partitions.map(\.name) == ["Foo", "Bar"])
        #expect(disk1.partitions.map { [$0.start / 512, $0.size / 512] } == [[34, 10], [48, 5]])
        #expect(disk1.partitions.map(\.type.description) == ["Linux filesystem", "Microsoft basic data"])
        #expect(disk1.partitions[1].attributes?.contains(.legacyBIOSBootable) == true)
        // Names stop at the first NUL, whatever follows it.
        let disk3 = try PartitionTable.read(try device(try scratch.fixture("partitions", "gptman-disk3.img")))
        #expect(disk3.partitions.map(\.name) == ["Properly zeroed name", "Name with garbage"])
        // README: two Linux partitions at LBA 34+1 and 35+4, backup header at LBA 71.
        let quyzi = try PartitionTable.read(try device(try scratch.fixture("partitions", "quyzi-gpt-disk.img")))
        #expect(quyzi.partitions.map { [$0.start / 512, $0.size / 512] } == [[34, 1], [35, 4]])
        #expect(quyzi.partitions.map(\.name) == [nil, nil])
    }

    @Test func corpus4KSectorDisksMatchFdisk() throws {
        let scratch = try TemporaryDirectory()
        for name in ["gptman-disk2.img", "gptman-disk4.img"] {
            let image = try scratch.fixture("partitions", name)
            let table = try PartitionTable.read(try device(image))
            #expect(table.scheme == .gpt(header: .primary), "\(name)")
            #expect(table.sectorSize == 4096, "\(name)")
            #expect(table.anomalies.isEmpty, "\(name)")
            let reference = try Fdisk4K.read(image)
            #expect(reference.count == 2)
            #expect(table.partitions.map { ReferencePartition(
                number: $0.number, startSector: $0.start / 4096, sectors: $0.size / 4096,
                type: $0.reference(sectorSize: 4096).type, uuid: $0.uniqueGUID, name: $0.name) } == reference, "\(name)")
        }
    }

    @Test func built4KSectorDiskMatchesFdisk() throws {
        let builder = GPTBuilder(sectorSize: 4096, sectors: 256, entries: [
            .init(typeGUID: GPTBuilder.linuxFilesystem, uniqueGUID: GPTBuilder.guid("11111111-2222-3333-4444-555555555555"),
                  firstLBA: 8, lastLBA: 99, name: "four-k root"),
            .init(typeGUID: GPTBuilder.microsoftBasicData, uniqueGUID: GPTBuilder.guid("AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE"),
                  firstLBA: 100, lastLBA: 200, attributes: 1 << 62, name: "data"),
        ])
        let disk = builder.build()
        let scratch = try TemporaryDirectory()
        let image = try scratch.write("4k.img", disk.bytes)
        let table = try PartitionTable.read(disk)
        #expect(table.scheme == .gpt(header: .primary))
        #expect(table.sectorSize == 4096)
        #expect(table.identifier == "01234567-89ab-cdef-0123-456789abcdef")
        #expect(table.anomalies.isEmpty)
        let sectors: [[UInt64]] = [[8, 92], [100, 101]]
        #expect(table.partitions.map { [$0.start / 4096, $0.size / 4096] } == sectors)
        #expect(table.partitions[1].attributes?.description == "GUID:62")
        let reference = try Fdisk4K.read(image)
        #expect(reference.map(\.name) == ["four-k root", "data"])
        #expect(reference.map(\.uuid) == table.partitions.map(\.uniqueGUID))
        #expect(reference.map(\.startSector) == [8, 100])
        #expect(reference.map(\.sectors) == [92, 101])
    }

    @Test func gptWithoutProtectiveMBRIsReadAndReported() throws {
        var disk = GPTBuilder(sectorSize: 512, sectors: 200, entries: [
            .init(typeGUID: GPTBuilder.linuxFilesystem, uniqueGUID: GPTBuilder.guid("11111111-2222-3333-4444-555555555555"),
                  firstLBA: 40, lastLBA: 99, name: "root"),
        ]).build()
        disk.write([UInt8](repeating: 0, count: 512), at: 0)
        let table = try PartitionTable.read(disk)
        #expect(table.scheme == .gpt(header: .primary))
        #expect(table.anomalies == ["sector 0 holds no protective MBR"])
    }

    @Test func hybridMBRDefersToGPT() throws {
        var disk = GPTBuilder(sectorSize: 512, sectors: 200, entries: [
            .init(typeGUID: GPTBuilder.linuxFilesystem, uniqueGUID: GPTBuilder.guid("11111111-2222-3333-4444-555555555555"),
                  firstLBA: 40, lastLBA: 99, name: "root"),
        ]).build()
        MBRTests.writeEntry(&disk, slot: 1, type: 0x83, start: 40, count: 60)
        let table = try PartitionTable.read(disk)
        #expect(table.scheme == .gpt(header: .primary))
        #expect(table.partitions.map(\.name) == ["root"])
        #expect(table.anomalies.count == 1)
    }
}
