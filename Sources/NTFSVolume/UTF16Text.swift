import ByteParsing
import VolumeModel

/// NTFS names: UTF-16LE code units, not necessarily valid UTF-16.
enum UTF16Text {
    static func units(_ bytes: [UInt8], at offset: Int, count: Int, origin: UInt64, _ what: String) throws(ByteParsingError) -> [UInt16] {
        guard offset >= 0, count >= 0, offset <= bytes.count, 2 * count <= bytes.count - offset else {
            throw .truncated(what: what, at: origin + UInt64(max(offset, 0)), needed: 2 * count, available: max(bytes.count - offset, 0))
        }
        var units: [UInt16] = []
        units.reserveCapacity(count)
        for index in 0 ..< count {
            let position = offset + 2 * index
            units.append(UInt16(bytes[position]) | UInt16(bytes[position + 1]) << 8)
        }
        return units
    }

    /// Text for display and paths: an unpaired surrogate becomes U+FFFD instead of trapping.
    static func string(_ units: [UInt16]) -> String {
        String(decoding: units, as: UTF16.self)
    }

    static func utf8(_ units: [UInt16]) -> [UInt8] {
        Array(string(units).utf8)
    }
}
