import ByteParsing

/// The update sequence ("fixup") of multi-sector records (FILE and INDX): the last two bytes
/// of every 512-byte stride hold the update sequence number, and the real bytes are kept in
/// the array. A stride whose tail does not match was torn or damaged: the record is corrupt.
enum UpdateSequence {
    static let stride = 512

    /// Checks and undoes the fixups of `record` in place. The array offset and count come
    /// from the header at 0x04 and 0x06.
    static func apply(_ record: inout [UInt8], origin: UInt64, what: String) throws(ByteParsingError) {
        let reader = ByteReader(record, origin: origin)
        let arrayOffset = Int(try reader.integer(at: 4, "\(what) update sequence offset") as UInt16)
        let count = Int(try reader.integer(at: 6, "\(what) update sequence count") as UInt16)
        guard record.count % stride == 0, count == record.count / stride + 1 else {
            throw .invalid(what: "\(what) update sequence count", at: origin + 6,
                           reason: "\(count) entries for a \(record.count)-byte record (expected \(record.count / stride + 1))")
        }
        // The array must fit before the first stride's tail, which it patches.
        guard arrayOffset >= 0x08, arrayOffset % 2 == 0, arrayOffset + 2 * count <= stride - 2 else {
            throw .invalid(what: "\(what) update sequence offset", at: origin + 4, reason: "\(arrayOffset) with \(count) entries does not fit")
        }
        let number = UInt16(record[arrayOffset]) | UInt16(record[arrayOffset + 1]) << 8
        for index in 1 ..< count {
            let tail = index * stride - 2
            let found = UInt16(record[tail]) | UInt16(record[tail + 1]) << 8
            guard found == number else {
                throw .invalid(what: "\(what) update sequence", at: origin + UInt64(tail),
                               reason: "stride \(index - 1) ends in 0x\(String(found, radix: 16)), expected 0x\(String(number, radix: 16)) (torn or damaged record)")
            }
            record[tail] = record[arrayOffset + 2 * index]
            record[tail + 1] = record[arrayOffset + 2 * index + 1]
        }
    }
}
