import BlockDevices
import ByteParsing

/// One copy of the GPT, primary or backup: a header and the entry array it describes, both
/// CRC-checked.
struct GPTCopy {
    let header: GPTHeader
    let sectorSize: UInt64
    let entries: ByteReader

    static func load(_ disk: any BlockDevice, lba: UInt64, sectorSize: UInt64) throws(GPTDamage) -> GPTCopy {
        let sector = try read(disk, lba: lba, sectorSize: sectorSize, count: Int(sectorSize), what: "header")
        let header = try GPTHeader(sector.bytes, lba: lba)
        let array = try read(
            disk, lba: header.entriesLBA, sectorSize: sectorSize, count: header.entryArrayBytes,
            what: "partition entry array")
        let computed = CRC32.checksum(array.bytes)
        guard computed == header.entriesCRC else {
            throw GPTDamage(reason: "partition entry array CRC mismatch (stored 0x\(IdentifierText.hex(header.entriesCRC, digits: 8)), computed 0x\(IdentifierText.hex(computed, digits: 8)))")
        }
        return GPTCopy(header: header, sectorSize: sectorSize, entries: array)
    }

    /// The used entries that lie on the disk, numbered by slot as Linux does.
    func partitions(diskSize: UInt64, anomalies: inout [String]) -> [Partition] {
        let diskSectors = diskSize / sectorSize
        var partitions: [Partition] = []
        for index in 0 ..< header.entryCount {
            let number = index + 1
            let entry: GPTEntry
            do {
                entry = try GPTEntry(entries, at: index * header.entrySize)
            } catch {
                anomalies.append("partition entry \(number): \(error)")
                break
            }
            if entry.isUnused { continue }
            guard entry.firstLBA <= entry.lastLBA else {
                anomalies.append("partition \(number) ends (LBA \(entry.lastLBA)) before it starts (LBA \(entry.firstLBA)): ignored")
                continue
            }
            guard entry.lastLBA < diskSectors else {
                anomalies.append("partition \(number) extends past the end of the disk: not followed")
                continue
            }
            if entry.firstLBA < header.firstUsableLBA || entry.lastLBA > header.lastUsableLBA {
                anomalies.append("partition \(number) lies outside the usable LBAs \(header.firstUsableLBA)-\(header.lastUsableLBA)")
            }
            let attributes = GPTAttributes(rawValue: entry.attributes)
            // lastLBA < diskSectors, so both products stay below the disk size.
            partitions.append(Partition(
                number: number, start: entry.firstLBA * sectorSize,
                size: (entry.lastLBA - entry.firstLBA + 1) * sectorSize,
                type: .gpt(IdentifierText.guid(entry.typeGUID)), name: entry.name, attributes: attributes,
                uniqueGUID: IdentifierText.guid(entry.uniqueGUID), bootable: attributes.contains(.legacyBIOSBootable)))
        }
        return partitions
    }

    /// `count` bytes at `lba`, or why they cannot be had.
    private static func read(
        _ disk: any BlockDevice, lba: UInt64, sectorSize: UInt64, count: Int, what: String
    ) throws(GPTDamage) -> ByteReader {
        let offset = try? Checked.multiply(lba, sectorSize, what)
        guard let offset, let end = try? Checked.add(offset, UInt64(count), what), end <= disk.size else {
            throw GPTDamage(reason: "\(what) at LBA \(lba) lies past the end of the disk")
        }
        do {
            return ByteReader(try disk.read(at: offset, count: count), origin: offset)
        } catch {
            throw GPTDamage(reason: "cannot read the \(what) at LBA \(lba): \(error)")
        }
    }
}
