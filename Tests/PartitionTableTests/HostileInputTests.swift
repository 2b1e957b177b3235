import ByteParsing
import PartitionTable
import TestSupport
import Testing

/// Random bytes and random damage to real tables: every outcome is a table or an error, never
/// a trap (which would end the test process) nor a hang.
@Suite struct HostileInputTests {
    /// SplitMix64: fixed seeds keep a failure reproducible.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Reads the table and probes every volume, as `inspect` and the mount would.
    static func exercise(_ disk: MemoryDisk) {
        guard let table = try? PartitionTable.read(disk) else { return }
        for partition in table.partitions {
            #expect(partition.end <= disk.size)
        }
        let volumes: [DiskVolume]
        do {
            volumes = try table.volumes(on: disk)
        } catch {
            Issue.record("volumes of a table read from the same disk must fit: \(error)")
            return
        }
        for volume in volumes { _ = VolumeProbe.probe(volume.device) }
    }

    static func randomBytes(_ count: Int, _ random: inout Generator) -> [UInt8] {
        (0 ..< count).map { _ in UInt8.random(in: 0 ... 255, using: &random) }
    }

    @Test func randomDisks() {
        var random = Generator(state: 1)
        for iteration in 0 ..< 300 {
            var disk = MemoryDisk(Self.randomBytes(Int.random(in: 0 ... 40000, using: &random), &random))
            // Plant the signatures that lead the parsers deeper.
            if disk.bytes.count >= 512, iteration % 2 == 0 { disk.write([0x55, 0xAA], at: 510) }
            if disk.bytes.count >= 1024, iteration % 3 == 0 { disk.write(Array("EFI PART".utf8), at: 512) }
            if disk.bytes.count >= 512, iteration % 5 == 0 { disk.write([0xEE], at: 446 + 4) }
            if disk.bytes.count >= 512, iteration % 7 == 0 { disk.write([0x00], at: 446) }
            Self.exercise(disk)
        }
    }

    @Test func randomVolumesWithPlantedSignatures() {
        let signatures: [(offset: Int, bytes: [UInt8])] = [
            (0, [0x4C, 0x55, 0x4B, 0x53, 0xBA, 0xBE]), (16384, [0x53, 0x4B, 0x55, 0x4C, 0xBA, 0xBE]),
            (0, Array("XFSB".utf8)), (1080, [0x53, 0xEF]), (3, Array("NTFS    ".utf8)), (3, Array("-FVE-FS-".utf8)),
            (424, GPTBuilder.guid("4967D63B-2E29-4AD8-8399-F6A339E3D001")),
            (0, [0xEB, 0x3C, 0x90]), (512, Array("LABELONE".utf8)), (4086, Array("SWAPSPACE2".utf8)),
            (65536 + 64, Array("_BHRfS_M".utf8)),
        ]
        var random = Generator(state: 2)
        for iteration in 0 ..< 300 {
            var disk = MemoryDisk(Self.randomBytes(Int.random(in: 0 ... 70000, using: &random), &random))
            let (offset, bytes) = signatures[iteration % signatures.count]
            if offset + bytes.count <= disk.bytes.count { disk.write(bytes, at: offset) }
            if disk.bytes.count >= 512 { disk.write([0x55, 0xAA], at: 510) }
            _ = VolumeProbe.probe(disk)
            Self.exercise(disk)
        }
    }

    /// Mutations of a valid GPT; half of them with both CRCs recomputed, so that the hostile
    /// values get past the checksums into the parser.
    @Test func mutatedGPTs() {
        let uuid = GPTBuilder.guid("11111111-2222-3333-4444-555555555555")
        let original = GPTBuilder(sectorSize: 512, sectors: 200, entries: (0 ..< 4).map {
            .init(typeGUID: GPTBuilder.linuxFilesystem, uniqueGUID: uuid, firstLBA: 40 + 30 * UInt64($0),
                  lastLBA: 69 + 30 * UInt64($0), name: "partition \($0)")
        }).build()
        var random = Generator(state: 3)
        for iteration in 0 ..< 300 {
            var disk = original
            for _ in 0 ..< Int.random(in: 1 ... 8, using: &random) {
                // Mostly the header's fields and the first entries, where the parser looks.
                let offset = iteration % 4 == 0 ? Int.random(in: 0 ..< 34 * 512, using: &random) : 512 + Int.random(in: 0 ..< 92 + 512, using: &random)
                disk.bytes[offset] = UInt8.random(in: 0 ... 255, using: &random)
            }
            if iteration % 2 == 0 {
                let count = Int(disk.bytes[512 + 80]) | Int(disk.bytes[512 + 81]) << 8
                let size = Int(disk.bytes[512 + 84]) | Int(disk.bytes[512 + 85]) << 8
                let arrayEnd = min(1024 + count * size, disk.bytes.count)
                GPTBuilder.patchHeader(&disk, at: 512, field: 88, CRC32.checksum(disk.bytes[1024 ..< arrayEnd]))
            }
            Self.exercise(disk)
        }
    }

    /// Mutations of a real MBR with an EBR chain, aimed at the entries of the MBR and EBRs.
    @Test func mutatedMBRs() throws {
        let scratch = try TemporaryDirectory()
        let original = MemoryDisk(try readFile(try scratch.fixture("partitions", "mbrman-disk2-logical.img")))
        var random = Generator(state: 4)
        let sectors = original.bytes.count / 512
        for _ in 0 ..< 300 {
            var disk = original
            for _ in 0 ..< Int.random(in: 1 ... 6, using: &random) {
                let sector = Int.random(in: 0 ..< sectors, using: &random)
                disk.bytes[sector * 512 + Int.random(in: 446 ..< 512, using: &random)] = UInt8.random(in: 0 ... 255, using: &random)
            }
            Self.exercise(disk)
        }
    }

    /// Inputs the `partition` fuzz target (Fuzz/) once crashed on, kept as regressions.
    @Test func fuzzRegressionInputs() throws {
        for (_, bytes) in try FuzzRegressions.inputs("partition") {
            Self.exercise(MemoryDisk(bytes))
        }
    }
}
