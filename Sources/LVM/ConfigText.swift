/// LVM2's configuration text format, as the volume group metadata uses it: sections
/// (`name { ... }`), assignments (`name = value`) whose values are integers, quoted strings or
/// flat arrays of those, and `#` comments. Strict and bounded: nesting, the text's size and
/// each array's length have limits, and anything else (floats, nested arrays, a stray token)
/// is an error naming its line.
public struct ConfigSection: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case integer(Int64)
        case string(String)
        case array([Value])
        case section(ConfigSection)
    }

    /// Entries in the order of the text; a name may repeat (the first one counts).
    public let entries: [(name: String, value: Value)]
    /// The line where the section opens, for messages.
    public let line: Int

    public static func == (lhs: ConfigSection, rhs: ConfigSection) -> Bool {
        lhs.line == rhs.line && lhs.entries.elementsEqual(rhs.entries) { $0.name == $1.name && $0.value == $1.value }
    }

    public subscript(name: String) -> Value? {
        entries.first { $0.name == name }?.value
    }

    /// The sections inside this one, in order.
    public var sections: [(name: String, section: ConfigSection)] {
        entries.compactMap { entry in
            if case let .section(section) = entry.value { (entry.name, section) } else { nil }
        }
    }

    /// Deeper sections than LVM ever writes (VG, its lists, an LV, a segment: 4) are refused.
    public static let maxDepth = 16
    public static let maxArrayLength = 1 << 16

    /// Parses a whole metadata text.
    public static func parse(_ text: [UInt8]) throws(LVMError) -> ConfigSection {
        guard text.count <= MetadataArea.maxTextSize else {
            throw .metadata("\(text.count) bytes of text, more than \(MetadataArea.maxTextSize)", line: nil)
        }
        var parser = ConfigParser(text: text)
        return try parser.section(depth: 0, line: 1, closed: false)
    }
}

/// A recursive-descent parser over the bytes, one token of look-ahead.
struct ConfigParser {
    let text: [UInt8]
    var index = 0
    var line = 1

    init(text: [UInt8]) {
        self.text = text
    }

    /// The entries up to the closing brace (`closed`) or the end of the text.
    mutating func section(depth: Int, line opening: Int, closed: Bool) throws(LVMError) -> ConfigSection {
        guard depth <= ConfigSection.maxDepth else { throw error("sections nested deeper than \(ConfigSection.maxDepth)") }
        var entries: [(name: String, value: ConfigSection.Value)] = []
        while true {
            skipBlanks()
            guard index < text.count else {
                if closed { throw error("section opened on line \(opening) is not closed") }
                return ConfigSection(entries: entries, line: opening)
            }
            if text[index] == UInt8(ascii: "}") {
                guard closed else { throw error("'}' without a section to close") }
                index += 1
                return ConfigSection(entries: entries, line: opening)
            }
            let name = try identifier()
            skipBlanks()
            guard index < text.count else { throw error("'\(name)' has no value") }
            switch text[index] {
            case UInt8(ascii: "{"):
                let start = line
                index += 1
                entries.append((name, .section(try section(depth: depth + 1, line: start, closed: true))))
            case UInt8(ascii: "="):
                index += 1
                skipBlanks()
                entries.append((name, try value()))
            default:
                throw error("expected '=' or '{' after '\(name)'")
            }
        }
    }

    mutating func value() throws(LVMError) -> ConfigSection.Value {
        guard index < text.count else { throw error("missing value") }
        guard text[index] == UInt8(ascii: "[") else { return try scalar() }
        index += 1
        var items: [ConfigSection.Value] = []
        skipBlanks()
        if index < text.count, text[index] == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            skipBlanks()
            guard items.count < ConfigSection.maxArrayLength else { throw error("array longer than \(ConfigSection.maxArrayLength)") }
            items.append(try scalar())
            skipBlanks()
            guard index < text.count else { throw error("array is not closed") }
            switch text[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return .array(items)
            default: throw error("expected ',' or ']' in an array")
            }
        }
    }

    mutating func scalar() throws(LVMError) -> ConfigSection.Value {
        guard index < text.count else { throw error("missing value") }
        if text[index] == UInt8(ascii: "\"") { return .string(try string()) }
        let start = index
        if text[index] == UInt8(ascii: "-") { index += 1 }
        while index < text.count, (UInt8(ascii: "0") ... UInt8(ascii: "9")).contains(text[index]) { index += 1 }
        let digits = String(decoding: text[start ..< index], as: UTF8.self)
        guard let number = Int64(digits) else {
            throw error(digits.isEmpty || digits == "-" ? "expected a number, a string or an array" : "integer \(digits) out of range")
        }
        if index < text.count, text[index] == UInt8(ascii: ".") { throw error("floating-point values are not used in volume group metadata") }
        return .integer(number)
    }

    /// A quoted string: `\` escapes the next byte; no newlines inside; valid UTF-8.
    mutating func string() throws(LVMError) -> String {
        index += 1
        var bytes: [UInt8] = []
        while index < text.count {
            let byte = text[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let string = String(validating: bytes, as: UTF8.self) else { throw error("string is not valid UTF-8") }
                return string
            case UInt8(ascii: "\\"):
                guard index < text.count else { throw error("string is not closed") }
                bytes.append(text[index])
                index += 1
            case UInt8(ascii: "\n"), 0:
                throw error("string is not closed on its line")
            default:
                bytes.append(byte)
            }
        }
        throw error("string is not closed")
    }

    /// A name: letters, digits and `_ . + -`, as LVM allows in VG, LV and key names.
    mutating func identifier() throws(LVMError) -> String {
        let start = index
        while index < text.count, Self.isNameByte(text[index]) { index += 1 }
        guard index > start else { throw error("unexpected character '\(Self.shown(text[start]))'") }
        return String(decoding: text[start ..< index], as: UTF8.self)
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a") ... UInt8(ascii: "z"), UInt8(ascii: "A") ... UInt8(ascii: "Z"), UInt8(ascii: "0") ... UInt8(ascii: "9"),
             UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "+"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }

    static func shown(_ byte: UInt8) -> String {
        (0x21 ..< 0x7F).contains(byte) ? String(UnicodeScalar(byte)) : "0x\(String(byte, radix: 16))"
    }

    /// Skips spaces, tabs, newlines (counting them) and comments.
    mutating func skipBlanks() {
        while index < text.count {
            switch text[index] {
            case UInt8(ascii: "\n"):
                line += 1
                index += 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                index += 1
            case UInt8(ascii: "#"):
                while index < text.count, text[index] != UInt8(ascii: "\n") { index += 1 }
            default:
                return
            }
        }
    }

    func error(_ reason: String) -> LVMError {
        .metadata(reason, line: line)
    }
}
