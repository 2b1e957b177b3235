/// What one copy of a volume group's text metadata says: its PVs and LVs, each LV as segments
/// of extents. Sizes are converted from LVM's 512-byte sectors to bytes here.
public struct VolumeGroupMetadata: Sendable {
    public struct PhysicalVolume: Sendable {
        /// The name segments refer to it by ("pv0").
        public let key: String
        public let uuid: String
        /// Where extent 0 starts on the PV, in bytes.
        public let extentStart: UInt64
        public let extentCount: UInt64
        /// The device path the PV had when the metadata was written ("/dev/sda2"), a hint only.
        public let deviceHint: String?
    }

    /// One place a segment's data lives: extents of a PV, or another (hidden) LV.
    public enum Area: Sendable, Equatable {
        case physical(key: String, extent: UInt64)
        case logical(name: String, extent: UInt64)
    }

    public struct Segment: Sendable {
        public let startExtent: UInt64
        public let extentCount: UInt64
        /// "striped" (linear is striped with one stripe), "mirror", "raid1", "thin", ...
        public let type: String
        /// Bytes per stripe chunk; 0 when the segment has one stripe.
        public let stripeSize: UInt64
        /// The stripes of a striped segment, the legs of a mirror, the images of a RAID
        /// (metadata sub-LVs left out).
        public let areas: [Area]
        /// The other LVs a thin, thin-pool or snapshot segment is made of.
        public let source: Source?

        /// The type as `lvs --segments` shows it: "linear" for a striped segment of one stripe.
        public var reportedType: String { type == "striped" && areas.count == 1 ? "linear" : type }
    }

    public enum Source: Sendable, Equatable {
        /// A thin LV: its pool LV and its device id in the pool's metadata.
        case thin(pool: String, device: UInt64)
        /// A thin pool: its metadata and data sub-LVs, and bytes per data block.
        case thinPool(metadata: String, data: String, chunkSize: UInt64)
        /// An old-style snapshot (a hidden LV): the LV it is a snapshot of, the visible LV
        /// that stores its exceptions (and that users know as the snapshot), bytes per chunk.
        case snapshot(origin: String, cowStore: String, chunkSize: UInt64)
    }

    public struct LogicalVolume: Sendable {
        public let name: String
        public let uuid: String
        public let status: [String]
        public let segments: [Segment]
        /// Marked VISIBLE: not a RAID image, mirror leg, pool metadata, ... (nor a snapshot's
        /// exception store, which `lvs` shows all the same).
        public var isVisible: Bool { status.contains("VISIBLE") }
    }

    public let name: String
    public let uuid: String
    public let seqno: UInt64
    /// Bytes per extent.
    public let extentSize: UInt64
    public let physicalVolumes: [PhysicalVolume]
    public let logicalVolumes: [LogicalVolume]

    /// The one top-level section of a metadata text is the volume group.
    public init(_ text: [UInt8]) throws(LVMError) {
        let root = try ConfigSection.parse(text)
        let groups = root.sections
        guard groups.count == 1, let (name, group) = groups.first else {
            throw .metadata("\(groups.count) volume group sections, expected 1", line: nil)
        }
        try self.init(name: name, group)
    }

    init(name: String, _ group: ConfigSection) throws(LVMError) {
        self.name = try Self.validName(name, "volume group", line: group.line)
        uuid = try group.uuid()
        seqno = try group.count("seqno")
        let sectors = try group.count("extent_size")
        guard sectors > 0, sectors <= 1 << 32 else { throw .metadata("extent_size \(sectors) out of range", line: group.line) }
        extentSize = sectors * 512
        physicalVolumes = try (group.subsection("physical_volumes")?.sections ?? []).map { key, section throws(LVMError) in
            PhysicalVolume(key: key, uuid: try section.uuid(), extentStart: try section.sectors("pe_start"),
                           extentCount: try section.count("pe_count"), deviceHint: try? section.string("device"))
        }
        let keys = Set(physicalVolumes.map(\.key))
        logicalVolumes = try (group.subsection("logical_volumes")?.sections ?? []).map { name, section throws(LVMError) in
            try Self.logicalVolume(name, section, physicalKeys: keys)
        }
        guard keys.count == physicalVolumes.count, Set(logicalVolumes.map(\.name)).count == logicalVolumes.count else {
            throw .metadata("volume group \(name) names two PVs or two LVs alike", line: group.line)
        }
    }

    private static func logicalVolume(_ name: String, _ section: ConfigSection, physicalKeys: Set<String>) throws(LVMError) -> LogicalVolume {
        let segments = try section.sections.filter { $0.name.hasPrefix("segment") }.map { _, segment throws(LVMError) in
            try Self.segment(segment, physicalKeys: physicalKeys)
        }
        let status = try section.strings("status")
        return LogicalVolume(name: try validName(name, "logical volume", line: section.line), uuid: try section.uuid(),
                             status: status, segments: segments.sorted { $0.startExtent < $1.startExtent })
    }

    private static func segment(_ section: ConfigSection, physicalKeys: Set<String>) throws(LVMError) -> Segment {
        let type = try section.string("type")
        var areas: [Area] = []
        // Striped segments and mirrors list (name, extent) pairs; RAIDs list (metadata, image) names.
        if let pairs = section["stripes"] ?? section["mirrors"] {
            guard case let .array(items) = pairs, items.count % 2 == 0 else {
                throw .metadata("stripes must be pairs of a name and an extent", line: section.line)
            }
            for index in stride(from: 0, to: items.count, by: 2) {
                guard case let .string(name) = items[index], case let .integer(extent) = items[index + 1], extent >= 0 else {
                    throw .metadata("stripes must be pairs of a name and an extent", line: section.line)
                }
                areas.append(physicalKeys.contains(name) ? .physical(key: name, extent: UInt64(extent)) : .logical(name: name, extent: UInt64(extent)))
            }
        } else if section["raids"] != nil {
            let names = try section.strings("raids")
            guard names.count % 2 == 0 else { throw .metadata("raids must pair metadata and image LVs", line: section.line) }
            areas = stride(from: 1, to: names.count, by: 2).map { .logical(name: names[$0], extent: 0) }
        }
        let stripeSize: UInt64 = section["stripe_size"] == nil ? 0 : try section.sectors("stripe_size")
        let source: Source? = switch type {
        case "thin": .thin(pool: try section.string("thin_pool"), device: try section.count("device_id"))
        case "thin-pool": .thinPool(metadata: try section.string("metadata"), data: try section.string("pool"), chunkSize: try section.sectors("chunk_size"))
        case "snapshot": .snapshot(origin: try section.string("origin"), cowStore: try section.string("cow_store"), chunkSize: try section.sectors("chunk_size"))
        default: nil
        }
        return Segment(startExtent: try section.count("start_extent"), extentCount: try section.count("extent_count"),
                       type: type, stripeSize: stripeSize, areas: areas, source: source)
    }

    /// LVM's names: letters, digits and `_ . + -`, not starting with `-`, not `.` or `..`.
    static func validName(_ name: String, _ what: String, line: Int) throws(LVMError) -> String {
        guard !name.isEmpty, name.utf8.count <= 128, name != ".", name != "..", !name.hasPrefix("-"),
              name.utf8.allSatisfy(ConfigParser.isNameByte)
        else { throw .metadata("\(what) name '\(name)' is not a valid LVM name", line: line) }
        return name
    }
}

extension ConfigSection {
    func string(_ name: String) throws(LVMError) -> String {
        guard case let .string(value)? = self[name] else { throw .metadata("'\(name)' missing or not a string", line: line) }
        return value
    }

    /// The section's `id`: LVM's UUIDs are 32 letters and digits in dash-separated groups.
    func uuid() throws(LVMError) -> String {
        let value = try string("id")
        guard (32 ... 64).contains(value.utf8.count),
              value.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || PhysicalVolumeLabel.isUUIDByte($0) })
        else { throw .metadata("id '\(value)' is not an LVM UUID", line: line) }
        return value
    }

    /// A non-negative integer.
    func count(_ name: String) throws(LVMError) -> UInt64 {
        guard case let .integer(value)? = self[name], value >= 0 else {
            throw .metadata("'\(name)' missing or not a non-negative integer", line: line)
        }
        return UInt64(value)
    }

    /// A count of 512-byte sectors, in bytes.
    func sectors(_ name: String) throws(LVMError) -> UInt64 {
        let value = try count(name)
        guard value <= UInt64.max / 512 else { throw .metadata("'\(name)' out of range", line: line) }
        return value * 512
    }

    func strings(_ name: String) throws(LVMError) -> [String] {
        guard case let .array(items)? = self[name] else { throw .metadata("'\(name)' missing or not an array", line: line) }
        var strings: [String] = []
        for item in items {
            guard case let .string(value) = item else { throw .metadata("'\(name)' holds a non-string", line: line) }
            strings.append(value)
        }
        return strings
    }

    func subsection(_ name: String) -> ConfigSection? {
        if case let .section(section)? = self[name] { section } else { nil }
    }
}
