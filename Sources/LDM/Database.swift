import ByteParsing

/// The config area of a private region: the VMDB header, then fixed-size VBLKs. A record
/// larger than one VBLK is cut into fragments that share a record number and count their
/// place; they are put back together here.
public struct Database: Sendable {
    /// The VMDB's committed sequence: the copy with the highest one in a disk group wins.
    public let committedSequence: UInt64
    public let diskGroupName: String
    public let diskGroupGUID: String
    public let vblkSize: Int
    /// Records in the order of their first fragment, blank ones left out.
    public let records: [Record]

    /// A record whose fragments a VBLK size this small leaves no room for is impossible.
    static let minimumVBLKSize = 32
    /// Windows uses 128; larger sizes are allowed up to a sector's worth of blocks.
    static let maximumVBLKSize = 4096
    /// A record spans at most this many VBLKs: the largest Windows writes take a few.
    static let maximumFragments = 64
    static let headerSize = 16

    /// Reads the config area's bytes.
    public init(_ area: ByteReader) throws(ByteParsingError) {
        guard area.hasMagic("VMDB", at: 0) else {
            throw .invalid(what: "VMDB", at: area.origin, reason: "no VMDB signature")
        }
        let lastSlot: UInt32 = try area.bigEndian(at: 0x04, "VMDB last VBLK")
        let size: UInt32 = try area.bigEndian(at: 0x08, "VBLK size")
        let first: UInt32 = try area.bigEndian(at: 0x0C, "VMDB first VBLK offset")
        let status: UInt16 = try area.bigEndian(at: 0x10, "VMDB update status")
        let major: UInt16 = try area.bigEndian(at: 0x12, "VMDB version")
        let minor: UInt16 = try area.bigEndian(at: 0x14, "VMDB version")
        guard major == 4, minor == 10 else {
            throw .invalid(what: "VMDB version", at: area.origin + 0x12, reason: "\(major).\(minor), expected 4.10")
        }
        // 1 is "consistent"; anything else is a transaction Windows did not finish.
        guard status == 1 else {
            throw .invalid(what: "VMDB update status", at: area.origin + 0x10, reason: "\(status): an update was not completed")
        }
        guard (Self.minimumVBLKSize ... Self.maximumVBLKSize).contains(Int(size)) else {
            throw .invalid(what: "VBLK size", at: area.origin + 0x08, reason: "\(size) bytes")
        }
        guard first >= 0xC5, Int(first) <= area.bytes.count else {
            throw .invalid(what: "VMDB first VBLK offset", at: area.origin + 0x0C, reason: "\(first)")
        }
        vblkSize = Int(size)
        diskGroupName = try area.paddedText(at: 0x16, count: 31, "VMDB disk group name")
        diskGroupGUID = try area.paddedText(at: 0x35, count: 64, "VMDB disk group GUID").lowercased()
        committedSequence = try area.bigEndian(at: 0x75, "VMDB committed sequence")
        records = try Self.records(area, first: Int(first), size: Int(size), lastSlot: Int(lastSlot))
        try Self.checkUniqueIDs(records, at: area.origin)
    }

    /// Records refer to each other by object id: two objects of one kind with the same id
    /// make every reference ambiguous.
    private static func checkUniqueIDs(_ records: [Record], at origin: UInt64) throws(ByteParsingError) {
        var seen: [String: Set<UInt32>] = [:]
        for record in records {
            let object: (kind: String, id: UInt32)? = switch record {
            case let .volume(volume): ("volume", volume.id)
            case let .component(component): ("component", component.id)
            case let .partition(partition): ("partition", partition.id)
            case let .disk(disk): ("disk", disk.id)
            case .diskGroup: nil
            }
            if let object, !seen[object.kind, default: []].insert(object.id).inserted {
                throw .invalid(what: "VBLK records", at: origin, reason: "two \(object.kind) records with id \(object.id)")
            }
        }
    }

    private struct Fragments {
        let position: UInt64
        let total: Int
        var parts: [Int: [UInt8]] = [:]
    }

    /// The VBLKs from `first`, until one without the signature, the VMDB's last slot or the
    /// end of the area; fragments joined by record number.
    private static func records(_ area: ByteReader, first: Int, size: Int, lastSlot: Int) throws(ByteParsingError) -> [Record] {
        // A whole record, or the number of a fragmented one, in the order they begin.
        var order: [Record?] = []
        var fragmented: [UInt32] = []
        var pending: [UInt32: Fragments] = [:]
        var position = first
        let slots = min(lastSlot, area.bytes.count / size)
        var slot = first / size
        while slot < slots, position + size <= area.bytes.count, area.hasMagic("VBLK", at: position) {
            let absolute = area.origin + UInt64(position)
            let record: UInt32 = try area.bigEndian(at: position + 0x08, "VBLK record number")
            let entry = Int(try area.bigEndian(at: position + 0x0C, "VBLK fragment number") as UInt16)
            let total = Int(try area.bigEndian(at: position + 0x0E, "VBLK fragment count") as UInt16)
            let data = Array(area.bytes[position + headerSize ..< position + size])
            if total <= 1 {
                guard entry == 0 else { throw .invalid(what: "VBLK", at: absolute, reason: "fragment \(entry) of \(total)") }
                order.append(try Record.parse(ByteReader(data, origin: absolute + UInt64(headerSize))))
            } else {
                guard total <= maximumFragments, entry < total else {
                    throw .invalid(what: "VBLK", at: absolute, reason: "fragment \(entry) of \(total)")
                }
                var fragments = pending[record] ?? Fragments(position: absolute, total: total)
                if pending[record] == nil {
                    order.append(nil)
                    fragmented.append(record)
                }
                guard fragments.total == total, fragments.parts[entry] == nil else {
                    throw .invalid(what: "VBLK record \(record)", at: absolute, reason: "fragment \(entry) of \(total) twice or with another count")
                }
                fragments.parts[entry] = data
                pending[record] = fragments
            }
            position += size
            slot += 1
        }
        var joinedRecords: [Record?] = []
        for number in fragmented {
            guard let fragments = pending[number] else { continue }
            var joined: [UInt8] = []
            for entry in 0 ..< fragments.total {
                guard let part = fragments.parts[entry] else {
                    throw .invalid(what: "VBLK record \(number)", at: fragments.position,
                                   reason: "fragment \(entry) of \(fragments.total) is missing")
                }
                joined += part
            }
            joinedRecords.append(try Record.parse(ByteReader(joined, origin: fragments.position + UInt64(headerSize))))
        }
        var next = joinedRecords.makeIterator()
        return order.compactMap { $0 ?? next.next() ?? nil }
    }
}
