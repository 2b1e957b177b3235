import VolumeModel

/// The records of a pax extended header: "LENGTH KEY=VALUE\n", LENGTH counting the whole
/// record in decimal. Values are bytes (names that are not UTF-8, binary xattr values): the
/// length, not a terminator, bounds them.
struct PaxRecords {
    private(set) var bytes: [UInt8] = []

    var isEmpty: Bool { bytes.isEmpty }

    mutating func add(_ key: String, _ value: [UInt8]) {
        let body = key.utf8.count + value.count + 3
        // The length counts its own digits: try the digits of the body alone, then one more.
        var length = body + String(body).utf8.count
        if String(length).utf8.count + body != length { length = body + String(length).utf8.count }
        bytes += Array("\(length) \(key)=".utf8) + value + [0x0A]
    }

    mutating func add(_ key: String, _ value: String) {
        add(key, Array(value.utf8))
    }

    /// A time as pax writes it: seconds, a dot and nine digits of nanoseconds; a time before
    /// 1970 with nanoseconds is the negative total ("-1.250000000" is 1.25 s before).
    static func time(_ time: Timestamp) -> String {
        let nanoseconds = String(time.nanoseconds)
        let padded = String(repeating: "0", count: max(0, 9 - nanoseconds.count)) + nanoseconds
        guard time.seconds < 0, time.nanoseconds > 0 else { return "\(time.seconds).\(padded)" }
        let rest = String(1_000_000_000 - time.nanoseconds)
        return "-\(-(time.seconds + 1)).\(String(repeating: "0", count: max(0, 9 - rest.count)) + rest)"
    }

    /// An xattr name as a pax keyword: '%' and '=' percent-encoded, as GNU tar writes them.
    static func xattrKey(_ name: String) -> String {
        var key = "SCHILY.xattr."
        for character in name {
            switch character {
            case "%": key += "%25"
            case "=": key += "%3D"
            default: key.append(character)
            }
        }
        return key
    }
}
