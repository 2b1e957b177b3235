/// One 512-byte ustar header block (POSIX.1-2001, pax's base). Numeric fields are octal,
/// NUL-terminated; a value a field cannot hold goes in a pax record and the field gets 0.
struct TarHeader {
    static let blockSize = 512

    enum TypeFlag: UInt8 {
        case regular = 0x30, hardLink = 0x31, symlink = 0x32, characterDevice = 0x33, blockDevice = 0x34
        case directory = 0x35, fifo = 0x36
        /// The pax extended header that applies to the next member.
        case paxExtended = 0x78
    }

    private(set) var block = [UInt8](repeating: 0, count: blockSize)

    init(type: TypeFlag) {
        block[156] = type.rawValue
        // "ustar\0" then version "00".
        block.replaceSubrange(257 ..< 265, with: Array("ustar\u{0}00".utf8))
    }

    /// Puts a name in the name field, or split at a '/' into prefix and name; false when it
    /// fits neither way (then a pax `path` record carries it).
    mutating func setName(_ name: [UInt8]) -> Bool {
        if name.count <= 100 {
            block.replaceSubrange(0 ..< name.count, with: name)
            return true
        }
        guard name.count <= 256 else { return false }
        for split in name.indices.reversed() where name[split] == UInt8(ascii: "/") && split <= 155 && name.count - split - 1 <= 100 {
            guard split > 0, split < name.count - 1 else { return false }
            block.replaceSubrange(345 ..< 345 + split, with: name[0 ..< split])
            block.replaceSubrange(0 ..< name.count - split - 1, with: name[(split + 1)...])
            return true
        }
        return false
    }

    /// The link target field; false when it does not fit (a pax `linkpath` record then).
    mutating func setLinkName(_ target: [UInt8]) -> Bool {
        guard target.count <= 100 else { return false }
        block.replaceSubrange(157 ..< 157 + target.count, with: target)
        return true
    }

    mutating func setMode(_ mode: UInt16) { _ = setOctal(UInt64(mode & 0o7777), at: 100, width: 8) }
    mutating func setUID(_ uid: UInt32) -> Bool { setOctal(UInt64(uid), at: 108, width: 8) }
    mutating func setGID(_ gid: UInt32) -> Bool { setOctal(UInt64(gid), at: 116, width: 8) }
    mutating func setSize(_ size: UInt64) -> Bool { setOctal(size, at: 124, width: 12) }
    mutating func setModified(_ seconds: Int64) -> Bool {
        guard let value = UInt64(exactly: seconds) else { return false }
        return setOctal(value, at: 136, width: 12)
    }
    mutating func setDevice(major: UInt64, minor: UInt64) -> Bool {
        setOctal(major, at: 329, width: 8) && setOctal(minor, at: 337, width: 8)
    }

    /// The block with its checksum: the sum of all bytes, the checksum field counted as spaces.
    func sealed() -> [UInt8] {
        var block = block
        block.replaceSubrange(148 ..< 156, with: [UInt8](repeating: 0x20, count: 8))
        let sum = block.reduce(0) { $0 + Int($1) }
        let digits = Array(String(sum, radix: 8).utf8)
        let field = [UInt8](repeating: UInt8(ascii: "0"), count: 6 - digits.count) + digits + [0, 0x20]
        block.replaceSubrange(148 ..< 156, with: field)
        return block
    }

    /// Octal digits filling the field but its final NUL; false (field zero) when too large.
    private mutating func setOctal(_ value: UInt64, at offset: Int, width: Int) -> Bool {
        let digits = Array(String(value, radix: 8).utf8)
        guard digits.count <= width - 1 else {
            block.replaceSubrange(offset ..< offset + width - 1, with: [UInt8](repeating: UInt8(ascii: "0"), count: width - 1))
            return false
        }
        block.replaceSubrange(offset ..< offset + width - 1, with: [UInt8](repeating: UInt8(ascii: "0"), count: width - 1 - digits.count) + digits)
        return true
    }
}
