import ByteParsing
import VolumeModel

/// A request target taken apart: which view (the page, WebDAV, an archive) and the path in the
/// point as validated names. Percent-decoding gives bytes (names from a backup need not be
/// UTF-8); what could reach outside the tree or mean two things is refused, never repaired:
/// `.` or `..` components, an encoded '/' (%2F), NUL, malformed escapes, overlong UTF-8
/// (the classic `%C0%AE%C0%AE`), and anything but a path in the target.
struct WebPath: Equatable {
    enum View: String {
        /// The browser page: "/" and "/browse/PATH".
        case browse
        case dav
        case zip
        case tar
    }

    let view: View
    let components: [FileName]
    /// Whether the target ended in '/' (WebDAV names collections so).
    let trailingSlash: Bool
    /// The query string, undecoded ("download" on a file link of the page).
    let query: String

    /// The path in the point, for errors and the page ("/disk0/part1/etc").
    var pointPath: String { "/" + components.map(\.description).joined(separator: "/") }

    enum Refusal: Error, Equatable {
        case notFound
        case invalid(String)
    }

    init(target: String) throws(Refusal) {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = parts[0]
        query = parts.count > 1 ? String(parts[1]) : ""
        guard path.hasPrefix("/") else { throw .invalid("the target is not a path") }
        var raw = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        trailingSlash = path.count > 1 && path.hasSuffix("/")
        if trailingSlash { raw = raw.dropLast() }
        guard let first = raw.first, !(raw.count == 1 && first.isEmpty) else {
            view = .browse
            components = []
            return
        }
        guard let view = View(rawValue: String(first)) else { throw .notFound }
        self.view = view
        var components: [FileName] = []
        for piece in raw.dropFirst() {
            let bytes = try Self.decode(piece)
            guard !Self.hasOverlongEncoding(bytes) else { throw .invalid("overlong UTF-8 in a name") }
            guard let name = try? FileName(validating: bytes) else { throw .invalid("not a valid name: empty, '.', '..', NUL or an encoded '/'") }
            components.append(name)
        }
        self.components = components
    }

    /// Percent-decoding of one component; a '%' not followed by two hex digits is refused.
    static func decode(_ piece: Substring) throws(Refusal) -> [UInt8] {
        var bytes: [UInt8] = []
        var utf8 = piece.utf8.makeIterator()
        while let byte = utf8.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = utf8.next().flatMap(Hex.nibble), let low = utf8.next().flatMap(Hex.nibble) else {
                throw .invalid("a '%' not followed by two hex digits")
            }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    /// Lead bytes that encode a character in more bytes than it needs: C0 and C1 (ASCII in
    /// two bytes), E0 followed by 80-9F, F0 followed by 80-8F.
    static func hasOverlongEncoding(_ bytes: [UInt8]) -> Bool {
        for (index, byte) in bytes.enumerated() {
            let next = index + 1 < bytes.count ? bytes[index + 1] : 0
            let continues = next & 0xC0 == 0x80
            if (byte == 0xC0 || byte == 0xC1) && continues { return true }
            if byte == 0xE0 && (0x80 ... 0x9F).contains(next) { return true }
            if byte == 0xF0 && (0x80 ... 0x8F).contains(next) { return true }
        }
        return false
    }
}
