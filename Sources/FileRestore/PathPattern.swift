import VolumeModel

/// A shell pattern for one path component: `*` (any run of characters), `?` (one
/// character), `[abc]`, `[a-z]`, `[!a-z]` (sets), and `\x` (x itself). Matching is over
/// Unicode scalars, so `?` is one character, not one byte; bytes of a name that are not
/// valid UTF-8 can only be matched by `*` and `?`.
public struct ComponentPattern: Sendable, Equatable, CustomStringConvertible {
    enum Token: Sendable, Equatable {
        case scalar(UInt32)
        case any
        case star
        case set(ranges: [ClosedRange<UInt32>], negated: Bool)
    }

    let tokens: [Token]
    public let description: String

    /// The component's text when it has no wildcards (escapes removed), else nil.
    public var literal: String? {
        var text = ""
        for token in tokens {
            guard case let .scalar(value) = token, let scalar = Unicode.Scalar(value) else { return nil }
            text.unicodeScalars.append(scalar)
        }
        return text
    }

    public init(_ text: String) throws(RestoreError) {
        description = text
        var tokens: [Token] = []
        var scalars = text.unicodeScalars.map(\.value)[...]
        while let first = scalars.popFirst() {
            switch first {
            case 0x2A: // *
                if tokens.last != .star { tokens.append(.star) }
            case 0x3F: // ?
                tokens.append(.any)
            case 0x5C: // backslash
                guard let escaped = scalars.popFirst() else { throw .plan("'\(text)' ends with a lone backslash") }
                tokens.append(.scalar(escaped))
            case 0x5B: // [
                tokens.append(try Self.parseSet(&scalars, in: text))
            default:
                tokens.append(.scalar(first))
            }
        }
        self.tokens = tokens
    }

    private static func parseSet(_ scalars: inout ArraySlice<UInt32>, in text: String) throws(RestoreError) -> Token {
        var negated = false
        if let first = scalars.first, first == 0x21 || first == 0x5E { // ! or ^
            negated = true
            scalars.removeFirst()
        }
        var ranges: [ClosedRange<UInt32>] = []
        var first = true
        while let next = scalars.popFirst() {
            if next == 0x5D, !first { return .set(ranges: ranges, negated: negated) } // ] closes unless it is the first member
            first = false
            var low = next
            if low == 0x5C {
                guard let escaped = scalars.popFirst() else { break }
                low = escaped
            }
            var high = low
            if scalars.count >= 2, scalars.first == 0x2D, scalars[scalars.startIndex + 1] != 0x5D { // a-z
                scalars.removeFirst()
                high = scalars.removeFirst()
                guard high >= low else { throw .plan("'\(text)' has a backwards range") }
            }
            ranges.append(low ... high)
        }
        throw .plan("'\(text)' has an unclosed [")
    }

    /// Whether `name` matches. `caseInsensitive` folds both sides as NTFS does (to upper case).
    public func matches(_ name: FileName, caseInsensitive: Bool) -> Bool {
        let subject = Self.scalars(of: name.bytes).map { caseInsensitive ? Self.fold($0) : $0 }
        // Iterative matching with one backtrack point per star: linear in practice, never exponential.
        var p = 0, s = 0
        var starP = -1, starS = 0
        while s < subject.count {
            if p < tokens.count, tokens[p] != .star, accepts(tokens[p], subject[s], caseInsensitive) {
                p += 1
                s += 1
            } else if p < tokens.count, tokens[p] == .star {
                starP = p
                starS = s
                p += 1
            } else if starP >= 0 {
                p = starP + 1
                starS += 1
                s = starS
            } else {
                return false
            }
        }
        while p < tokens.count, tokens[p] == .star { p += 1 }
        return p == tokens.count
    }

    private func accepts(_ token: Token, _ value: UInt32, _ caseInsensitive: Bool) -> Bool {
        switch token {
        case .star, .any:
            return true
        case let .scalar(expected):
            return (caseInsensitive ? Self.fold(expected) : expected) == value
        case let .set(ranges, negated):
            // Folded subject against the set as written, and its lower-case form too: [a-z] matches "Q".
            let forms = caseInsensitive ? [value, Self.lower(value)] : [value]
            return forms.contains { form in ranges.contains { $0.contains(form) } } != negated
        }
    }

    /// The name's Unicode scalars; each byte of invalid UTF-8 becomes a value no pattern
    /// scalar can equal (0xDC00 + byte, a lone surrogate).
    static func scalars(of bytes: [UInt8]) -> [UInt32] {
        if let text = String(validating: bytes, as: UTF8.self) { return text.unicodeScalars.map(\.value) }
        var result: [UInt32] = []
        var index = 0
        while index < bytes.count {
            var decoder = UTF8()
            var iterator = bytes[index...].makeIterator()
            if case let .scalarValue(scalar) = decoder.decode(&iterator) {
                result.append(scalar.value)
                index += UTF8.width(scalar)
            } else {
                result.append(0xDC00 + UInt32(bytes[index]))
                index += 1
            }
        }
        return result
    }

    static func fold(_ value: UInt32) -> UInt32 {
        guard let scalar = Unicode.Scalar(value) else { return value }
        let upper = scalar.properties.uppercaseMapping.unicodeScalars
        guard upper.count == 1, let single = upper.first else { return value }
        return single.value
    }

    static func lower(_ value: UInt32) -> UInt32 {
        guard let scalar = Unicode.Scalar(value) else { return value }
        let lower = scalar.properties.lowercaseMapping.unicodeScalars
        guard lower.count == 1, let single = lower.first else { return value }
        return single.value
    }
}

/// A pattern over absolute paths in a point: components separated by '/', each a
/// `ComponentPattern` or `**`, which stands for any number of components (none included).
public struct PathPattern: Sendable, Equatable, CustomStringConvertible {
    public enum Component: Sendable, Equatable {
        case anyDepth
        case pattern(ComponentPattern)
    }

    public let components: [Component]
    public let description: String

    public init(_ text: String) throws(RestoreError) {
        guard text.hasPrefix("/") else { throw .plan("'\(text)' is not an absolute path in the point (start it with /)") }
        description = text
        var components: [Component] = []
        for part in text.split(separator: "/", omittingEmptySubsequences: true) {
            guard part != ".", part != ".." else { throw .plan("'\(text)' contains '\(part)'") }
            if part == "**" {
                if components.last != .anyDepth { components.append(.anyDepth) }
            } else {
                components.append(.pattern(try ComponentPattern(String(part))))
            }
        }
        self.components = components
    }

    /// How many leading components are plain names: where the pattern's fixed part ends.
    public var literalPrefixCount: Int {
        components.prefix { if case let .pattern(pattern) = $0 { pattern.literal != nil } else { false } }.count
    }

    /// Whether the whole path (its components) matches.
    public func matches(_ path: [FileName], caseInsensitive: Bool) -> Bool {
        // reachable[i][j]: pattern[i...] can match path[j...]; filled from the end (no recursion, no blow-up).
        let p = components.count, n = path.count
        var next = [Bool](repeating: false, count: n + 1)
        next[n] = true
        for i in stride(from: p - 1, through: 0, by: -1) {
            var current = [Bool](repeating: false, count: n + 1)
            for j in stride(from: n, through: 0, by: -1) {
                switch components[i] {
                case .anyDepth:
                    current[j] = next[j] || (j < n && current[j + 1])
                case let .pattern(pattern):
                    current[j] = j < n && pattern.matches(path[j], caseInsensitive: caseInsensitive) && next[j + 1]
                }
            }
            next = current
        }
        return next[0]
    }
}
