import ByteParsing

/// TOCBLOCK: where the private region's two areas lie, in sectors from the region's start:
/// "config" (the VMDB and its VBLKs) and "log".
public struct TableOfContents: Sendable, Hashable {
    public struct Area: Sendable, Hashable {
        public let name: String
        public let start: UInt64
        public let size: UInt64
    }

    /// Increases with every update: among valid copies, the highest wins.
    public let sequence: UInt32
    public let config: Area
    public let log: Area?

    /// Reads a TOCBLOCK of a private region `regionSize` sectors long; throws unless it is one
    /// whose config area lies inside the region.
    public init(_ reader: ByteReader, regionSize: UInt64) throws(ByteParsingError) {
        guard reader.hasMagic("TOCBLOCK", at: 0) else {
            throw .invalid(what: "TOCBLOCK", at: reader.origin, reason: "no TOCBLOCK signature")
        }
        sequence = try reader.bigEndian(at: 0x08, "TOCBLOCK sequence")
        var areas: [Area] = []
        // Two area entries of 34 bytes: name[8], flags, start, size, flags.
        for position in [0x24, 0x46] {
            let name = try reader.paddedText(at: position, count: 8, "TOCBLOCK area name")
            let start: UInt64 = try reader.bigEndian(at: position + 10, "TOCBLOCK area start")
            let size: UInt64 = try reader.bigEndian(at: position + 18, "TOCBLOCK area size")
            let end = try Checked.add(start, size, "TOCBLOCK area end")
            guard end <= regionSize else {
                throw .invalid(what: "TOCBLOCK area \(name)", at: reader.origin + UInt64(position),
                               reason: "sectors \(start)+\(size) outside the private region of \(regionSize)")
            }
            areas.append(Area(name: name, start: start, size: size))
        }
        guard let config = areas.first(where: { $0.name == "config" }), config.size > 0 else {
            throw .invalid(what: "TOCBLOCK", at: reader.origin + 0x24, reason: "no config area")
        }
        self.config = config
        log = areas.first { $0.name == "log" }
    }
}
