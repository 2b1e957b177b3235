import ByteParsing

/// $REPARSE_POINT: a tag and tag-specific data. Symbolic links and junctions (mount points)
/// carry a substitute name and a print name; WSL symbolic links a UTF-8 target.
struct ReparsePoint: Sendable {
    static let symbolicLink: UInt32 = 0xA000_000C
    static let mountPoint: UInt32 = 0xA000_0003
    /// Symbolic link flag: the target is relative to the link's directory.
    static let relative: UInt32 = 0x1

    /// Windows Overlay Filter: the data is in another place (a WIM image, or compressed in
    /// the WofCompressedData stream).
    static let wof: UInt32 = 0x8000_0017

    /// The header after a WOF tag: WOF version and provider (1 = WIM, 2 = file), then for the
    /// file provider its version and the compression algorithm.
    struct WofHeader: Sendable, Equatable {
        let version: UInt32
        let provider: UInt32
        let providerVersion: UInt32
        let algorithm: UInt32
    }

    let tag: UInt32
    /// The link target for symbolic links and junctions, else nil.
    let target: [UInt16]?
    let isRelative: Bool
    /// WOF files with the 16 bytes of header; checked when the file is read, so that a header
    /// rpfs cannot read fails the read, not the file's attributes.
    var wof: WofHeader?
    /// A WSL symbolic link's target: UTF-8, as Linux wrote it.
    var wslTarget: [UInt8]?

    /// WSL's symbolic links: format version 2, then the target in UTF-8.
    static let wslSymlink: UInt32 = 0xA000_001D

    static func isLink(_ tag: UInt32) -> Bool { tag == symbolicLink || tag == mountPoint }

    static func parse(_ value: [UInt8], origin: UInt64) throws(ByteParsingError) -> ReparsePoint {
        var reader = ByteReader(value, origin: origin)
        let tag = try reader.u32("reparse tag")
        let dataLength = Int(try reader.u16("reparse data length"))
        try reader.skip(2, "reserved")
        guard dataLength <= value.count - 8 else {
            throw .invalid(what: "reparse data length", at: origin + 4, reason: "\(dataLength) bytes, \(value.count - 8) stored")
        }
        guard isLink(tag) else {
            var wof: WofHeader?
            if tag == Self.wof, dataLength >= 16 {
                wof = WofHeader(version: try reader.u32("WOF version"), provider: try reader.u32("WOF provider"),
                                providerVersion: try reader.u32("WOF file provider version"), algorithm: try reader.u32("WOF algorithm"))
            }
            var wslTarget: [UInt8]?
            if tag == wslSymlink, dataLength > 4, try reader.u32("WSL symlink version") == 2 {
                wslTarget = Array(value[12 ..< 8 + dataLength])
            }
            return ReparsePoint(tag: tag, target: nil, isRelative: false, wof: wof, wslTarget: wslTarget)
        }
        let substituteOffset = Int(try reader.u16("substitute name offset"))
        let substituteLength = Int(try reader.u16("substitute name length"))
        let printOffset = Int(try reader.u16("print name offset"))
        let printLength = Int(try reader.u16("print name length"))
        var flags: UInt32 = 0
        if tag == symbolicLink { flags = try reader.u32("symbolic link flags") }
        let pathBuffer = reader.offset
        func name(_ offset: Int, _ length: Int, _ what: String) throws(ByteParsingError) -> [UInt16] {
            guard length % 2 == 0, pathBuffer + offset + length <= 8 + dataLength else {
                throw .invalid(what: what, at: origin + UInt64(pathBuffer), reason: "\(length) bytes at \(offset) run past the \(dataLength)-byte reparse data")
            }
            return try UTF16Text.units(value, at: pathBuffer + offset, count: length / 2, origin: origin, what)
        }
        let printName = try name(printOffset, printLength, "reparse print name")
        let substitute = try name(substituteOffset, substituteLength, "reparse substitute name")
        // The print name is what Windows shows ("C:\dir"); the substitute name is the NT path
        // ("\??\C:\dir") and stands in when the print name is empty.
        var target = printName.isEmpty ? substitute : printName
        let ntPrefix = Array("\\??\\".utf16)
        if printName.isEmpty, target.starts(with: ntPrefix) { target.removeFirst(ntPrefix.count) }
        guard !target.isEmpty else {
            throw .invalid(what: "reparse point", at: origin, reason: "link with an empty target")
        }
        return ReparsePoint(tag: tag, target: target, isRelative: flags & relative != 0, wof: nil)
    }
}
