#if canImport(Glibc)
import Glibc
#endif
import VolumeModel

/// Names from the backup on their way into HTML, XML, URLs and headers: escaped for each,
/// so that no name can add markup, a header or a line.
enum WebText {
    /// Text for HTML and XML content and attribute values: the five special characters as
    /// entities, and control characters (which XML 1.0 cannot hold at all) as U+FFFD.
    static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case _ where scalar.value < 0x20 || (0x7F ..< 0xA0).contains(scalar.value): out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A name for display: invalid UTF-8 as U+FFFD, then escaped.
    static func escaped(_ name: FileName) -> String { escaped(name.description) }

    /// Bytes as a URL path segment: every byte but the unreserved ones percent-encoded, so a
    /// link names exactly the bytes of the name, UTF-8 or not.
    static func percentEncoded(_ bytes: [UInt8]) -> String {
        var out = ""
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "A") ... UInt8(ascii: "Z"), UInt8(ascii: "a") ... UInt8(ascii: "z"), UInt8(ascii: "0") ... UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xF, radix: 16, uppercase: true)
            }
        }
        return out
    }

    /// "/view/a/b": each name percent-encoded, a trailing '/' for a collection.
    static func href(_ view: String, _ components: [FileName], collection: Bool) -> String {
        let path = components.map { "/" + percentEncoded($0.bytes) }.joined()
        return "/\(view)\(path)\(collection ? "/" : "")"
    }

    /// Content-Disposition for a download (RFC 6266): an ASCII fallback `filename` in which
    /// anything but printable ASCII (and '"', '\', ';', '%') is '_', and for a UTF-8 name the
    /// exact one as `filename*` (RFC 5987). Never a CR, LF or quote from the name.
    static func contentDisposition(_ name: [UInt8]) -> String {
        let fallback = String(decoding: name.map { byte -> UInt8 in
            (0x20 ..< 0x7F).contains(byte) && !"\"\\;%".utf8.contains(byte) ? byte : UInt8(ascii: "_")
        }, as: UTF8.self)
        var value = "attachment; filename=\"\(fallback)\""
        if String(validating: name, as: UTF8.self) != nil {
            value += "; filename*=UTF-8''\(percentEncoded(name))"
        }
        return value
    }

    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// An HTTP date (RFC 9110 IMF-fixdate): "Sun, 06 Nov 1994 08:49:37 GMT".
    static func httpDate(_ seconds: Int64) -> String {
        let civil = utc(seconds)
        return "\(days[Int(civil.tm_wday) % 7]), \(two(civil.tm_mday)) \(months[Int(civil.tm_mon) % 12]) \(civil.tm_year + 1900) "
            + "\(two(civil.tm_hour)):\(two(civil.tm_min)):\(two(civil.tm_sec)) GMT"
    }

    /// The seconds of an IMF-fixdate; nil for anything else (RFC 9110: a date that does not
    /// parse makes the condition be ignored).
    static func parseHTTPDate(_ text: String) -> Int64? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int32(parts[1]), let month = months.firstIndex(of: String(parts[2])),
              let year = Int32(parts[3]) else { return nil }
        let clock = parts[4].split(separator: ":")
        guard clock.count == 3, let hour = Int32(clock[0]), let minute = Int32(clock[1]), let second = Int32(clock[2]) else { return nil }
        var civil = tm()
        civil.tm_year = year - 1900
        civil.tm_mon = Int32(month)
        civil.tm_mday = day
        civil.tm_hour = hour
        civil.tm_min = minute
        civil.tm_sec = second
        let seconds = timegm(&civil)
        return seconds == -1 ? nil : Int64(seconds)
    }

    /// An RFC 3339 time, as WebDAV's creationdate wants it.
    static func isoDate(_ seconds: Int64) -> String {
        let civil = utc(seconds)
        return "\(civil.tm_year + 1900)-\(two(civil.tm_mon + 1))-\(two(civil.tm_mday))T\(two(civil.tm_hour)):\(two(civil.tm_min)):\(two(civil.tm_sec))Z"
    }

    /// The UTC calendar time of `seconds`; the epoch for a time gmtime cannot break down.
    private static func utc(_ seconds: Int64) -> tm {
        var time = time_t(clamping: seconds)
        var civil = tm()
        if gmtime_r(&time, &civil) == nil {
            time = 0
            _ = gmtime_r(&time, &civil)
        }
        return civil
    }

    private static func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
