import ByteParsing

/// Why one GPT copy (header plus entry array) cannot be used. Becomes the reason shown for a
/// fallback to the backup, or part of `PartitionTableError.noValidGPT`.
struct GPTDamage: Error {
    let reason: String
}

/// The GPT header (UEFI spec 5.3.2), accepted only when its CRC and fields check out.
struct GPTHeader {
    static let signature = Array("EFI PART".utf8)
    static let minimumSize = 92
    static let minimumEntrySize = 128
    /// The spec sets no upper bound on the entry array; real tables are 16 KiB (128 entries).
    /// 1 MiB bounds what a hostile header can make us read.
    static let maxEntryArrayBytes = 1 << 20

    let lba: UInt64
    let alternateLBA: UInt64
    let firstUsableLBA: UInt64
    let lastUsableLBA: UInt64
    let diskGUID: String
    let entriesLBA: UInt64
    let entryCount: Int
    let entrySize: Int
    let entriesCRC: UInt32

    var entryArrayBytes: Int { entryCount * entrySize }

    /// Parses the header in `sector`, read from `lba`.
    init(_ sector: [UInt8], lba: UInt64) throws(GPTDamage) {
        let reader = ByteReader(sector)
        guard reader.matches(Self.signature, at: 0) else { throw GPTDamage(reason: "no GPT signature") }
        let headerSize: Int, storedCRC: UInt32, myLBA: UInt64
        do throws(ByteParsingError) {
            headerSize = Int(try reader.integer(at: 12, "header size") as UInt32)
            storedCRC = try reader.integer(at: 16, "header CRC")
            myLBA = try reader.integer(at: 24, "my LBA")
            alternateLBA = try reader.integer(at: 32, "alternate LBA")
            firstUsableLBA = try reader.integer(at: 40, "first usable LBA")
            lastUsableLBA = try reader.integer(at: 48, "last usable LBA")
            diskGUID = IdentifierText.guid(try reader.bytes(at: 56, count: 16, "disk GUID"))
            entriesLBA = try reader.integer(at: 72, "partition entry LBA")
            entryCount = Int(try reader.integer(at: 80, "number of partition entries") as UInt32)
            entrySize = Int(try reader.integer(at: 84, "size of partition entry") as UInt32)
            entriesCRC = try reader.integer(at: 88, "partition entry array CRC")
        } catch {
            throw GPTDamage(reason: error.description)
        }
        self.lba = lba
        guard (Self.minimumSize ... sector.count).contains(headerSize) else {
            throw GPTDamage(reason: "header size \(headerSize) outside \(Self.minimumSize)...\(sector.count)")
        }
        // The CRC covers the header with its own CRC field zeroed.
        var covered = Array(sector[0 ..< headerSize])
        covered.replaceSubrange(16 ..< 20, with: [0, 0, 0, 0])
        let computedCRC = CRC32.checksum(covered)
        guard storedCRC == computedCRC else {
            throw GPTDamage(reason: "header CRC mismatch (stored 0x\(IdentifierText.hex(storedCRC, digits: 8)), computed 0x\(IdentifierText.hex(computedCRC, digits: 8)))")
        }
        guard myLBA == lba else { throw GPTDamage(reason: "header says it is at LBA \(myLBA)") }
        guard firstUsableLBA <= lastUsableLBA else {
            throw GPTDamage(reason: "first usable LBA \(firstUsableLBA) after last usable LBA \(lastUsableLBA)")
        }
        // The spec requires 128 × 2^n.
        guard entrySize >= Self.minimumEntrySize, entrySize.nonzeroBitCount == 1 else {
            throw GPTDamage(reason: "partition entry size \(entrySize) is not 128 × a power of two")
        }
        // Both are below 2^32: the product cannot overflow a 64-bit Int.
        guard entryArrayBytes <= Self.maxEntryArrayBytes else {
            throw GPTDamage(reason: "partition entry array of \(entryCount) × \(entrySize) bytes exceeds \(Self.maxEntryArrayBytes) bytes")
        }
    }
}
