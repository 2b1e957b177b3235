import ByteParsing

/// One run of a non-resident attribute: `length` clusters from `vcn`, stored at `lcn`, or a
/// hole (sparse, or the unused tail of a compression unit) when `lcn` is nil.
struct DataRun: Sendable, Equatable {
    let vcn: VCN
    let length: UInt64
    let lcn: LCN?

    var endVCN: UInt64 { vcn.value + length }
}

/// The mapping pairs of a non-resident attribute. Each run starts with a header byte: low
/// nibble = bytes of the length, high nibble = bytes of the signed LCN delta (0: a hole).
enum DataRuns {
    /// Parses runs covering `lowest ... highest` VCNs; every stored run must lie inside the
    /// volume's `clusterCount` clusters. Checked arithmetic throughout.
    static func parse(_ bytes: [UInt8], origin: UInt64, lowest: VCN, highest: VCN, clusterCount: UInt64) throws(ByteParsingError) -> [DataRun] {
        var reader = ByteReader(bytes, origin: origin)
        var runs: [DataRun] = []
        var vcn = lowest.value
        var previousLCN: Int64 = 0
        while !reader.isAtEnd {
            let at = origin + UInt64(reader.offset)
            let header = try reader.u8("data run header")
            if header == 0 { break }
            let lengthSize = Int(header & 0x0F)
            let offsetSize = Int(header >> 4)
            guard (1 ... 8).contains(lengthSize), offsetSize <= 8 else {
                throw .invalid(what: "data run header", at: at, reason: "0x\(String(header, radix: 16)): field sizes \(lengthSize)/\(offsetSize) out of range")
            }
            let lengthBytes = try reader.bytes(lengthSize, "data run length")
            let length = littleEndian(lengthBytes)
            guard length > 0, length <= Int64.max else {
                throw .invalid(what: "data run length", at: at, reason: "\(length) clusters")
            }
            let start = vcn
            vcn = try Checked.add(vcn, length, "data run VCN at byte \(at)")
            if offsetSize == 0 {
                runs.append(DataRun(vcn: VCN(start), length: length, lcn: nil))
                continue
            }
            let delta = signExtended(try reader.bytes(offsetSize, "data run offset"))
            let lcn = try Checked.add(previousLCN, delta, "data run LCN at byte \(at)")
            guard lcn >= 0, UInt64(lcn) < clusterCount, length <= clusterCount - UInt64(lcn) else {
                throw .invalid(what: "data run", at: at, reason: "clusters \(lcn) + \(length) lie outside the volume's \(clusterCount) clusters")
            }
            previousLCN = lcn
            runs.append(DataRun(vcn: VCN(start), length: length, lcn: LCN(UInt64(lcn))))
        }
        // An extent maps exactly its VCN range (an empty attribute has highest = lowest - 1;
        // some writers leave highest at 0 with no runs, which the size checks catch if it matters).
        let expectedEnd = highest.value &+ 1
        guard vcn == expectedEnd || runs.isEmpty else {
            throw .invalid(what: "data runs", at: origin, reason: "runs end at VCN \(vcn), the attribute header says \(expectedEnd)")
        }
        return runs
    }

    private static func littleEndian(_ bytes: [UInt8]) -> UInt64 {
        var value: UInt64 = 0
        for (index, byte) in bytes.enumerated() { value |= UInt64(byte) << (8 * UInt64(index)) }
        return value
    }

    private static func signExtended(_ bytes: [UInt8]) -> Int64 {
        let raw = littleEndian(bytes)
        let bits = UInt64(bytes.count * 8)
        guard bits < 64 else { return Int64(bitPattern: raw) }
        let signBit: UInt64 = 1 << (bits - 1)
        return raw & signBit != 0 ? Int64(bitPattern: raw | ~((signBit << 1) &- 1)) : Int64(bitPattern: raw)
    }
}
