import Foundation

/// Makes Windows dynamic disks as Windows lays them out, following the LDM on-disk format
/// (docs/LDM.md). MBR: a 0x42 partition from sector 63, the private region in the last 2048
/// sectors, PRIVHEAD copies at sector 6 of the disk and at 1856 and 2047 of the region. GPT
/// (written by sgdisk): an LDM metadata partition of 2048 sectors at sector 2048 that is the
/// private region (PRIVHEAD copies at 1856 and in its last sector), an LDM data partition
/// after it. In both, four TOCBLOCKs and the VMDB with 128-byte VBLKs at sector 17 of the
/// region; then the volumes' bytes placed as their layout says. No tool here writes LDM, so
/// tests check what this makes against ldmtool (libldm) before trusting it.
public final class LDMImageBuilder {
    public enum Layout: Sendable {
        case simple, spanned, mirrored
        /// Stripe size in sectors.
        case striped(chunk: UInt64)
        case raid5(chunk: UInt64)
    }

    public enum Scheme: Sendable {
        case mbr, gpt
    }

    public struct Disk: Sendable {
        public let name: String
        public let guid: String
        public let path: String
        public let sectors: UInt64
        /// Where the volumes' partitions count from (the logical disk start).
        public let dataStart: UInt64
        public let dataSectors: UInt64
        /// The private region: 2048 sectors.
        public let privateStart: UInt64
    }

    public struct Partition: Sendable {
        public let name: String
        public let disk: Int
        /// From the disk's logical disk start.
        public let start: UInt64
        public let size: UInt64
        public let volumeOffset: UInt64
        public let plex: Int
        public let column: Int
    }

    public struct Volume: Sendable {
        public let name: String
        public let guid: String
        public let layout: Layout
        /// In sectors.
        public let size: UInt64
        public let partitions: [Partition]
    }

    public static let sectorSize: UInt64 = 512
    static let privateSize: UInt64 = 2048
    static let vblkSize = 128

    public let scheme: Scheme
    public let groupName: String
    public let groupGUID = UUID().uuidString.lowercased()
    public private(set) var disks: [Disk] = []
    public private(set) var volumes: [Volume] = []
    /// A long id string on the first volume's record makes it span two VBLKs.
    public var fragmentFirstVolume = true
    private var nextFree: [UInt64]

    /// Sparse disk images of `sizes` bytes (each a multiple of 1 MiB) in `directory`.
    public init(in directory: TemporaryDirectory, sizes: [UInt64], scheme: Scheme = .mbr, groupName: String = "WinDg0") throws {
        self.scheme = scheme
        self.groupName = groupName
        for (index, size) in sizes.enumerated() {
            let path = try directory.image("ldm\(index).img", size: size)
            let sectors = size / Self.sectorSize
            let disk: Disk
            switch scheme {
            case .mbr:
                disk = Disk(name: "Disk\(index + 1)", guid: UUID().uuidString.lowercased(), path: path, sectors: sectors,
                            dataStart: 63, dataSectors: sectors - Self.privateSize - 63, privateStart: sectors - Self.privateSize)
            case .gpt:
                // The data partition ends 1 MiB before the disk's end, clear of the backup GPT.
                disk = Disk(name: "Disk\(index + 1)", guid: UUID().uuidString.lowercased(), path: path, sectors: sectors,
                            dataStart: 2 * Self.privateSize, dataSectors: sectors - 3 * Self.privateSize, privateStart: Self.privateSize)
                let end = disk.dataStart + disk.dataSectors - 1
                try Shell.check("sgdisk", ["-n", "1:\(disk.privateStart):\(disk.dataStart - 1)", "-t", "1:5808C8AA-7E8F-42E0-85D2-E1E90434CFB3",
                                           "-n", "2:\(disk.dataStart):\(end)", "-t", "2:AF9B60A0-1431-4F62-BC68-3311714A69AD", path])
            }
            disks.append(disk)
        }
        nextFree = Array(repeating: 0, count: sizes.count)
    }

    /// Adds a volume whose partitions (one per disk in `disks`: a spanned volume's pieces, a
    /// striped or RAID-5 volume's columns, a mirrored volume's plexes) take `size` sectors
    /// each from the free space of their disk.
    @discardableResult
    public func addVolume(_ name: String, layout: Layout, disks members: [Int], size: UInt64) -> Volume {
        var partitions: [Partition] = []
        var offset: UInt64 = 0
        for (position, disk) in members.enumerated() {
            let number = partitions.filter { $0.disk == disk }.count + volumes.flatMap(\.partitions).filter { $0.disk == disk }.count
            let partition = Partition(name: "\(disks[disk].name)-\(number + 1 < 10 ? "0" : "")\(number + 1)", disk: disk, start: nextFree[disk], size: size,
                                      volumeOffset: offset, plex: { if case .mirrored = layout { position } else { 0 } }(),
                                      column: position)
            nextFree[disk] += size
            if case .spanned = layout { offset += size }
            partitions.append(partition)
        }
        let total: UInt64 = switch layout {
        case .simple, .mirrored: size
        case .spanned, .striped: size * UInt64(members.count)
        case .raid5: size * UInt64(members.count - 1)
        }
        let volume = Volume(name: name, guid: UUID().uuidString.lowercased(), layout: layout, size: total, partitions: partitions)
        volumes.append(volume)
        return volume
    }

    /// Volume1 to Volume5: simple on the first of `disks`, spanned and striped over the first
    /// two, mirrored over the last two, RAID-5 over all three; `size` sectors per partition.
    public func addEveryLayout(on disks: [Int], size: UInt64, chunk: UInt64) {
        addVolume("Volume1", layout: .simple, disks: [disks[0]], size: size)
        addVolume("Volume2", layout: .spanned, disks: [disks[0], disks[1]], size: size)
        addVolume("Volume3", layout: .striped(chunk: chunk), disks: [disks[0], disks[1]], size: size)
        addVolume("Volume4", layout: .mirrored, disks: [disks[1], disks[2]], size: size)
        addVolume("Volume5", layout: .raid5(chunk: chunk), disks: disks, size: size)
    }

    /// Writes the MBRs and the private regions of every disk.
    public func writeMetadata() throws {
        let records = databaseRecords()
        for disk in disks {
            let privateStart = disk.privateStart
            let header = privateHeader(disk)
            if scheme == .mbr {
                try write(mbr(disk), to: disk, at: 0)
                try write(header, to: disk, at: 6)
            }
            for sector in [privateStart + 1856, privateStart + 2047] { try write(header, to: disk, at: sector) }
            for sector: UInt64 in [1, 2, 1852, 1853] { try write(tocBlock(), to: disk, at: privateStart + sector) }
            try write(vmdb(records), to: disk, at: privateStart + 17)
        }
    }

    /// Places `bytes` (at most the volume's size) into the named volume as its layout spreads them.
    public func fill(_ name: String, with bytes: [UInt8]) throws {
        guard let volume = volumes.first(where: { $0.name == name }) else { throw TestFailure("no volume \(name)") }
        let sector = Int(Self.sectorSize)
        var data = bytes
        data += Array(repeating: 0, count: Int(volume.size) * sector - data.count)
        switch volume.layout {
        case .simple, .spanned:
            var at = 0
            for partition in volume.partitions {
                try write(Array(data[at ..< at + Int(partition.size) * sector]), to: partition)
                at += Int(partition.size) * sector
            }
        case .mirrored:
            for partition in volume.partitions { try write(data, to: partition) }
        case let .striped(chunk), let .raid5(chunk):
            let chunkBytes = Int(chunk) * sector
            let columns = volume.partitions.count
            var isParity = false
            if case .raid5 = volume.layout { isParity = true }
            let dataColumns = isParity ? columns - 1 : columns
            let rows = Int(volume.partitions[0].size) / Int(chunk)
            var images = Array(repeating: [UInt8](), count: columns)
            for row in 0 ..< rows {
                let parity = isParity ? columns - 1 - row % columns : -1
                var xor = [UInt8](repeating: 0, count: chunkBytes)
                for index in 0 ..< dataColumns {
                    // RAID 5 is left-symmetric: the row's data starts after its parity column.
                    let column = parity >= 0 ? (parity + 1 + index) % columns : index
                    let start = (row * dataColumns + index) * chunkBytes
                    let piece = Array(data[start ..< start + chunkBytes])
                    images[column] += piece
                    for i in 0 ..< chunkBytes { xor[i] ^= piece[i] }
                }
                if parity >= 0 { images[parity] += xor }
            }
            for (column, partition) in volume.partitions.enumerated() { try write(images[column], to: partition) }
        }
    }

    // MARK: Structures

    private func mbr(_ disk: Disk) -> [UInt8] {
        var sector = [UInt8](repeating: 0, count: 512)
        let size = disk.sectors - disk.dataStart
        let entry: [UInt8] = [0, 0xFE, 0xFF, 0xFF, 0x42, 0xFE, 0xFF, 0xFF] + le32(UInt32(disk.dataStart)) + le32(UInt32(size))
        sector.replaceSubrange(446 ..< 462, with: entry)
        sector[440 ..< 444] = ArraySlice(le32(0x1234_5678 &+ UInt32(disks.firstIndex { $0.guid == disk.guid } ?? 0)))
        sector[510] = 0x55
        sector[511] = 0xAA
        return sector
    }

    private func privateHeader(_ disk: Disk) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        put(&h, 0, Array("PRIVHEAD".utf8))
        put(&h, 0x08, be(UInt32(7), 4))
        put(&h, 0x0C, be(UInt16(2), 2) + be(UInt16(12), 2))
        put(&h, 0x30, Array(disk.guid.utf8))
        put(&h, 0x70, Array(UUID().uuidString.lowercased().utf8))
        put(&h, 0xB0, Array(groupGUID.utf8))
        put(&h, 0xF0, Array(groupName.utf8))
        put(&h, 0x11B, be(disk.dataStart, 8) + be(disk.dataSectors, 8) + be(disk.privateStart, 8) + be(Self.privateSize, 8))
        // Two TOCBLOCKs of 4 sectors (n_tocs, toc_size), one config and one log, their sizes.
        put(&h, 0x13B, be(UInt64(2), 8) + be(UInt64(4), 8) + be(UInt32(1), 4) + be(UInt32(1), 4) + be(UInt64(1472), 8) + be(UInt64(224), 8))
        return h
    }

    private func tocBlock() -> [UInt8] {
        var t = [UInt8](repeating: 0, count: 512)
        put(&t, 0, Array("TOCBLOCK".utf8))
        put(&t, 0x08, be(UInt32(1), 4))
        put(&t, 0x10, be(UInt32(1), 4))
        for (position, name, start, size) in [(0x24, "config", UInt64(17), UInt64(1472)), (0x46, "log", UInt64(1489), UInt64(224))] {
            put(&t, position, Array(name.utf8))
            put(&t, position + 10, be(start, 8) + be(size, 8))
        }
        return t
    }

    private struct EncodedRecord {
        let type: UInt8
        let revision: UInt8
        let flags: UInt8
        let body: [UInt8]
    }

    private func databaseRecords() -> [EncodedRecord] {
        var records: [EncodedRecord] = []
        var id: UInt64 = 1
        func next() -> UInt64 { id += 1; return id }
        records.append(EncodedRecord(type: 5, revision: 4, flags: 0, body: varint(next()) + text(groupName) + [UInt8](repeating: 0, count: 24)))
        var diskIDs: [UInt64] = []
        for disk in disks {
            let diskID = next()
            diskIDs.append(diskID)
            records.append(EncodedRecord(type: 4, revision: 4, flags: 0, body: varint(diskID) + text(disk.name) + guidBytes(disk.guid) + [UInt8](repeating: 0, count: 24)))
        }
        for (volumeIndex, volume) in volumes.enumerated() {
            let volumeID = next()
            let isRAID5: Bool = { if case .raid5 = volume.layout { true } else { false } }()
            let plexes = Dictionary(grouping: volume.partitions, by: \.plex).sorted { $0.key < $1.key }
            let longID = fragmentFirstVolume && volumeIndex == 0
            var body = varint(volumeID) + text(volume.name) + text(isRAID5 ? "raid5" : "gen") + text("")
            body += Array("ACTIVE".utf8) + [UInt8](repeating: 0, count: 8)
            body += [isRAID5 ? 4 : 3, 0, UInt8(volumeIndex + 1), 0, 0, 0, 0]
            body += varint(UInt64(plexes.count)) + [UInt8](repeating: 0, count: 16) + varint(volume.size) + [0, 0, 0, 0, 0x07]
            body += guidBytes(volume.guid)
            if longID { body += text(String(repeating: "rpfs-fragmented-volume-record-", count: 2)) }
            body += text("\(Character(UnicodeScalar(UInt8(69 + volumeIndex)))):")
            records.append(EncodedRecord(type: 1, revision: 5, flags: 0x02 | (longID ? 0x08 : 0), body: body))
            for (plex, partitions) in plexes {
                let componentID = next()
                let layout: UInt8
                var flags: UInt8 = 0
                var tail: [UInt8] = []
                switch volume.layout {
                case .simple, .spanned, .mirrored: layout = 2
                case let .striped(chunk), let .raid5(chunk):
                    layout = isRAID5 ? 3 : 1
                    flags = 0x10
                    tail = varint(chunk) + varint(UInt64(partitions.count))
                }
                records.append(EncodedRecord(type: 2, revision: 3, flags: flags,
                                             body: varint(componentID) + text("\(volume.name)-\(plex + 1)") + text("ACTIVE") + [layout, 0, 0, 0, 0]
                                                 + varint(UInt64(partitions.count)) + [UInt8](repeating: 0, count: 16) + varint(volumeID) + [0] + tail))
                for partition in partitions {
                    let striped = flags == 0x10
                    records.append(EncodedRecord(type: 3, revision: 3, flags: striped ? 0x08 : 0,
                                                 body: varint(next()) + text(partition.name) + [UInt8](repeating: 0, count: 12)
                                                     + be(partition.start, 8) + be(partition.volumeOffset, 8) + varint(partition.size) + varint(componentID)
                                                     + varint(diskIDs[partition.disk]) + (striped ? varint(UInt64(partition.column)) : [])))
                }
            }
        }
        return records
    }

    private func vmdb(_ records: [EncodedRecord]) -> [UInt8] {
        let dataSize = Self.vblkSize - 16
        var blocks: [[UInt8]] = []
        for (number, record) in records.enumerated() {
            let data = be(UInt16(0), 2) + [record.flags, record.revision << 4 | record.type] + be(UInt32(record.body.count), 4) + record.body
            let count = (data.count + dataSize - 1) / dataSize
            for entry in 0 ..< count {
                var piece = Array(data[entry * dataSize ..< min(data.count, (entry + 1) * dataSize)])
                piece += [UInt8](repeating: 0, count: dataSize - piece.count)
                let sequence = UInt32(4 + blocks.count)
                blocks.append(Array("VBLK".utf8) + be(sequence, 4) + be(UInt32(number + 1), 4) + be(UInt16(entry), 2) + be(UInt16(count), 2) + piece)
            }
        }
        // Blank VBLKs up to a whole sector.
        while (4 + blocks.count) % 4 != 0 {
            blocks.append(Array("VBLK".utf8) + be(UInt32(4 + blocks.count), 4) + [UInt8](repeating: 0, count: Self.vblkSize - 8))
        }
        var header = [UInt8](repeating: 0, count: 512)
        put(&header, 0, Array("VMDB".utf8) + be(UInt32(4 + blocks.count), 4) + be(UInt32(Self.vblkSize), 4) + be(UInt32(512), 4))
        put(&header, 0x10, be(UInt16(1), 2) + be(UInt16(4), 2) + be(UInt16(10), 2))
        put(&header, 0x16, Array(groupName.utf8))
        put(&header, 0x35, Array(groupGUID.utf8))
        let counts = [1, 2, 3, 4].map { type in UInt32(records.filter { $0.type == type }.count) }
        // Committed and pending sequences, then committed and pending counts of volumes, components, partitions, disks.
        put(&header, 0x75, be(UInt64(9), 8) + be(UInt64(9), 8))
        put(&header, 0x85, counts.flatMap { be($0, 4) })
        put(&header, 0xA1, counts.flatMap { be($0, 4) })
        return header + blocks.flatMap { $0 }
    }

    // MARK: Encoding

    private func write(_ bytes: [UInt8], to partition: Partition) throws {
        try write(bytes, to: disks[partition.disk], at: disks[partition.disk].dataStart + partition.start)
    }

    private func write(_ bytes: [UInt8], to disk: Disk, at sector: UInt64) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: disk.path))
        try handle.seek(toOffset: sector * Self.sectorSize)
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
    }

    private func put(_ target: inout [UInt8], _ at: Int, _ bytes: [UInt8]) {
        target.replaceSubrange(at ..< at + bytes.count, with: bytes)
    }

    private func be<T: FixedWidthInteger>(_ value: T, _ count: Int) -> [UInt8] {
        (0 ..< count).map { UInt8(truncatingIfNeeded: value >> (8 * (count - 1 - $0))) }
    }

    private func le32(_ value: UInt32) -> [UInt8] { (0 ..< 4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

    private func varint(_ value: UInt64) -> [UInt8] {
        let length = max(1, (64 - value.leadingZeroBitCount + 7) / 8)
        return [UInt8(length)] + be(value, length)
    }

    private func text(_ value: String) -> [UInt8] { [UInt8(value.utf8.count)] + Array(value.utf8) }

    /// A GUID's 16 bytes in the order its text shows them, as libldm stores a binary GUID.
    private func guidBytes(_ guid: String) -> [UInt8] {
        let hex = Array(guid.replacingOccurrences(of: "-", with: "").utf8)
        return stride(from: 0, to: 32, by: 2).map { UInt8(String(decoding: hex[$0 ..< $0 + 2], as: UTF8.self), radix: 16) ?? 0 }
    }
}
