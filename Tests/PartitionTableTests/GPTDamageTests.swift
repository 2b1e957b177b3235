import PartitionTable
import TestSupport
import Testing

/// Damaged and hostile GPTs: the backup is used and the reason said, or a clear error.
@Suite struct GPTDamageTests {
    static let primaryHeader = 512
    /// 8 MiB sgdisk image: the backup header is at the last LBA.
    static let backupLBA = 16383
    static var backupHeader: Int { backupLBA * 512 }

    /// The sgdisk image in memory, and what sfdisk reads from it intact.
    static func intact() throws -> (MemoryDisk, [ReferencePartition]) {
        let scratch = try TemporaryDirectory()
        let image = try GPTTests.sgdiskImage(scratch)
        return (MemoryDisk(try readFile(image)), try Sfdisk.read(image).partitions)
    }

    static func expectBackup(_ disk: MemoryDisk, reference: [ReferencePartition], reason: String) throws {
        let table = try PartitionTable.read(disk)
        guard case let .gpt(header: .backup(found)) = table.scheme else {
            Issue.record("expected the backup header, got \(table.scheme)")
            return
        }
        #expect(found.contains(reason), "\(found)")
        #expect(found.hasSuffix("using the backup header at LBA \(backupLBA)"))
        #expect(table.anomalies.first == found)
        #expect(table.references == reference)
    }

    @Test func primaryHeaderCRCMismatch() throws {
        var (disk, reference) = try Self.intact()
        disk.bytes[Self.primaryHeader + 60] ^= 0xFF // a disk GUID byte
        try Self.expectBackup(disk, reference: reference, reason: "primary GPT header at LBA 1: header CRC mismatch")
    }

    @Test func primaryEntryArrayCRCMismatch() throws {
        var (disk, reference) = try Self.intact()
        disk.bytes[2 * 512 + 56] ^= 0x20 // first letter of partition 1's name
        try Self.expectBackup(disk, reference: reference, reason: "partition entry array CRC mismatch")
    }

    @Test func primaryHeaderZeroed() throws {
        var (disk, reference) = try Self.intact()
        disk.write([UInt8](repeating: 0, count: 512), at: Self.primaryHeader)
        try Self.expectBackup(disk, reference: reference, reason: "no GPT header at LBA 1")
    }

    @Test func absurdHeaderFieldsWithCorrectCRC() throws {
        let (intact, reference) = try Self.intact()
        let cases: [(field: Int, value: UInt64, width: Int, reason: String)] = [
            (80, 0xFFFF_FFFF, 4, "partition entry array of 4294967295 × 128 bytes exceeds"),
            (80, 8193, 4, "exceeds 1048576 bytes"),
            (84, 0, 4, "partition entry size 0 is not"),
            (84, 7, 4, "partition entry size 7 is not"),
            (84, 192, 4, "partition entry size 192 is not"),
            (84, 0x8000_0000, 4, "exceeds"),
            (72, UInt64.max, 8, "partition entry array at LBA 18446744073709551615 lies past the end"),
            (72, 16380, 8, "lies past the end of the disk"),
            (12, 0xFFFF_FFFF, 4, "header size 4294967295 outside 92...512"),
            (24, 7, 8, "header says it is at LBA 7"),
            (40, 20000, 8, "first usable LBA 20000 after last usable LBA"),
        ]
        for item in cases {
            var disk = intact
            if item.width == 4 {
                GPTBuilder.patchHeader(&disk, at: Self.primaryHeader, field: item.field, UInt32(truncatingIfNeeded: item.value))
            } else {
                GPTBuilder.patchHeader(&disk, at: Self.primaryHeader, field: item.field, item.value)
            }
            try Self.expectBackup(disk, reference: reference, reason: item.reason)
        }
        // A header size below 92 leaves the CRC to fail: the size check must not read past it.
        var small = intact
        small.writeLE(UInt32(12), at: Self.primaryHeader + 12)
        try Self.expectBackup(small, reference: reference, reason: "header size 12 outside")
    }

    @Test func bothCopiesDamagedIsAnError() throws {
        var (disk, _) = try Self.intact()
        disk.bytes[Self.primaryHeader + 60] ^= 0xFF
        GPTBuilder.patchHeader(&disk, at: Self.backupHeader, field: 80, UInt32(0xFFFF_FFFF))
        #expect {
            try PartitionTable.read(disk)
        } throws: { error in
            guard case let .noValidGPT(primary, backup) = error as? PartitionTableError else { return false }
            return primary.contains("header CRC mismatch") && backup.contains("at LBA 16383 for 512-byte sectors: partition entry array")
        }
    }

    @Test func damagedBackupIsReported() throws {
        var (disk, reference) = try Self.intact()
        disk.bytes[Self.backupHeader + 60] ^= 0xFF
        let table = try PartitionTable.read(disk)
        #expect(table.scheme == .gpt(header: .primary))
        #expect(table.references == reference)
        #expect(table.anomalies.count == 1)
        #expect(table.anomalies.first?.hasPrefix("backup GPT header at LBA 16383: header CRC mismatch") == true)
    }

    @Test func truncatedDiskKeepsWhatIsInside() throws {
        let (intact, reference) = try Self.intact()
        let disk = MemoryDisk(Array(intact.bytes.prefix(4 << 20)))
        let table = try PartitionTable.read(disk)
        #expect(table.scheme == .gpt(header: .primary))
        #expect(table.references == reference.filter { $0.startSector + $0.sectors <= 8192 })
        #expect(table.anomalies.contains("the GPT header puts its backup at LBA 16383, not at the last LBA 8191"))
        #expect(table.anomalies.contains("backup GPT header at LBA 16383: header at LBA 16383 lies past the end of the disk"))
        #expect(table.anomalies.contains("partition 5 extends past the end of the disk: not followed"))
    }

    @Test func damaged4KPrimaryFallsBackTo4KBackup() throws {
        let scratch = try TemporaryDirectory()
        var disk = MemoryDisk(try readFile(try scratch.fixture("partitions", "gptman-disk2.img")))
        disk.bytes[4096 + 60] ^= 0xFF
        let table = try PartitionTable.read(disk)
        guard case let .gpt(header: .backup(reason)) = table.scheme else {
            Issue.record("expected the backup header, got \(table.scheme)")
            return
        }
        #expect(reason.hasPrefix("primary GPT header at LBA 1: header CRC mismatch (stored 0x36032684, computed 0x"))
        #expect(reason.hasSuffix("using the backup header at LBA 99"))
        #expect(table.sectorSize == 4096)
        #expect(table.partitions.map { [$0.start / 4096, $0.size / 4096] } == [[6, 10], [70, 10]])
    }

    @Test func badEntriesAreReportedAndSkipped() throws {
        let uuid = GPTBuilder.guid("11111111-2222-3333-4444-555555555555")
        let disk = GPTBuilder(sectorSize: 512, sectors: 200, entries: [
            .init(typeGUID: GPTBuilder.linuxFilesystem, uniqueGUID: uuid, firstLBA: 40, lastLBA: 49, name: "good"),
            .init(typeGUID: GPTBuilder.linuxFilesystem, uniqueGUID: uuid, firstLBA: 60, lastLBA: 50, name: "backwards"),
            .init(typeGUID: GPTBuilder.linuxFilesystem, uniqueGUID: uuid, firstLBA: 150, lastLBA: UInt64.max, name: "huge"),
            .init(typeGUID: GPTBuilder.linuxFilesystem, uniqueGUID: uuid, firstLBA: 1, lastLBA: 10, name: "on the header"),
            .init(typeGUID: GPTBuilder.linuxFilesystem, uniqueGUID: uuid, firstLBA: 45, lastLBA: 55, name: "overlapping"),
        ]).build()
        let table = try PartitionTable.read(disk)
        #expect(table.partitions.map(\.number) == [1, 4, 5])
        #expect(table.anomalies == [
            "partition 2 ends (LBA 50) before it starts (LBA 60): ignored",
            "partition 3 extends past the end of the disk: not followed",
            "partition 4 lies outside the usable LBAs 34-166",
            "partitions 1 and 5 overlap",
        ])
    }
}
