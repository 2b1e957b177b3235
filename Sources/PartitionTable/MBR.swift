import BlockDevices
import ByteParsing

/// A 512-byte MBR or EBR: four 16-byte entries at 446 and the 0x55AA signature at 510.
struct MBRSector {
    struct Entry {
        let bootIndicator: UInt8
        let type: UInt8
        /// In sectors, from the disk start (MBR), from the EBR (a logical partition), or
        /// from the extended partition's start (the link to the next EBR).
        let start: UInt32
        let count: UInt32

        var isUsed: Bool { type != 0 && count != 0 }
        var isExtended: Bool { PartitionType.extendedTypes.contains(type) }
    }

    static let size = 512
    let diskSignature: UInt32
    let entries: [Entry]

    /// nil unless `sector` is at least 512 bytes ending in 0x55AA.
    init?(_ sector: [UInt8]) {
        let reader = ByteReader(sector)
        guard reader.matches([0x55, 0xAA], at: 510),
              let signature: UInt32 = try? reader.integer(at: 440, "disk signature"),
              let entries = try? (0 ..< 4).map({ slot throws(ByteParsingError) in
                  let base = 446 + 16 * slot
                  return Entry(
                      bootIndicator: try reader.integer(at: base, "boot indicator"),
                      type: try reader.integer(at: base + 4, "partition type"),
                      start: try reader.integer(at: base + 8, "start sector"),
                      count: try reader.integer(at: base + 12, "sector count"))
              })
        else { return nil }
        diskSignature = signature
        self.entries = entries
    }

    /// A 0xEE entry: the disk is GPT and this sector only keeps old tools away.
    var isProtective: Bool { entries.contains { $0.type == PartitionType.protectiveMBR } }
    /// Protective plus other entries (hybrid MBR, as Boot Camp made): the GPT is authoritative.
    var isHybrid: Bool { isProtective && entries.contains { $0.isUsed && $0.type != PartitionType.protectiveMBR } }
    var isEmpty: Bool { !entries.contains(where: \.isUsed) }
    /// Linux takes a 0x55AA sector as a partition table only if every boot flag is 0x00 or
    /// 0x80; anything else is boot code or a boot sector.
    var hasValidBootFlags: Bool { entries.allSatisfy { $0.bootIndicator == 0 || $0.bootIndicator == 0x80 } }
}

/// MBR partitioning: primaries in sector 0, logicals in a chain of EBRs inside an extended
/// partition, numbered as Linux does.
struct MBR {
    static let sectorSize: UInt64 = 512
    /// Linux gives up near 256 partitions; a longer chain is damage or a trap.
    static let maxEBRs = 128

    private let disk: any BlockDevice
    private var partitions: [Partition] = []
    private var anomalies: [String] = []
    private var nextLogical = 5

    static func read(_ mbr: MBRSector, disk: any BlockDevice) -> PartitionedDisk {
        var table = MBR(disk: disk)
        for (slot, entry) in mbr.entries.enumerated() where entry.isUsed {
            guard let partition = table.place(entry, number: slot + 1, base: 0) else { continue }
            if entry.isExtended { table.followChain(in: partition) }
        }
        return PartitionedDisk(
            scheme: .mbr, sectorSize: Int(sectorSize), identifier: "0x" + IdentifierText.hex(mbr.diskSignature, digits: 8),
            partitions: table.partitions.sorted { $0.number < $1.number },
            anomalies: table.anomalies + table.partitions.overlapAnomalies())
    }

    private init(disk: any BlockDevice) {
        self.disk = disk
    }

    /// Records `entry` (start relative to sector `base`) unless it reaches past the disk.
    /// Sector values are 32-bit and `base` below 2^33, so byte values stay below 2^43.
    private mutating func place(_ entry: MBRSector.Entry, number: Int, base: UInt64) -> Partition? {
        let start = (base + UInt64(entry.start)) * Self.sectorSize
        let size = UInt64(entry.count) * Self.sectorSize
        guard start + size <= disk.size else {
            anomalies.append("partition \(number) extends past the end of the disk: not followed")
            return nil
        }
        let partition = Partition(
            number: number, start: start, size: size, type: .mbr(entry.type), name: nil,
            attributes: nil, uniqueGUID: nil, bootable: entry.bootIndicator == 0x80)
        partitions.append(partition)
        return partition
    }

    /// Walks the EBRs of `extended`, each holding a logical partition and a link to the next.
    private mutating func followChain(in extended: Partition) {
        let first = extended.start / Self.sectorSize
        let last = extended.end / Self.sectorSize
        var ebrSector = first
        var visited: Set<UInt64> = []
        while true {
            guard visited.count < Self.maxEBRs else {
                anomalies.append("EBR chain longer than \(Self.maxEBRs) EBRs: stopped at sector \(ebrSector)")
                return
            }
            guard visited.insert(ebrSector).inserted else {
                anomalies.append("EBR chain loops at sector \(ebrSector): stopped")
                return
            }
            guard (ebrSector + 1) * Self.sectorSize <= disk.size else {
                anomalies.append("EBR at sector \(ebrSector) lies past the end of the disk: not followed")
                return
            }
            let sector: [UInt8]
            do {
                sector = try disk.read(at: ebrSector * Self.sectorSize, count: MBRSector.size)
            } catch {
                anomalies.append("cannot read the EBR at sector \(ebrSector): \(error): chain stopped")
                return
            }
            guard let ebr = MBRSector(sector) else {
                anomalies.append("EBR at sector \(ebrSector) has no 0x55AA signature: chain stopped")
                return
            }
            for (slot, entry) in ebr.entries.enumerated() where entry.isUsed && !entry.isExtended {
                // Slots 3 and 4 often hold garbage; Linux uses them only inside the extended partition.
                let start = ebrSector + UInt64(entry.start)
                if slot >= 2, start < first || start + UInt64(entry.count) > last { continue }
                _ = place(entry, number: nextLogical, base: ebrSector)
                nextLogical += 1
            }
            guard let link = ebr.entries.first(where: { $0.isUsed && $0.isExtended }) else { return }
            ebrSector = first + UInt64(link.start)
        }
    }
}
