import BlockDevices

/// Builds the device of a logical volume from its segments: linear and striped segments map
/// onto PV extents, a mirror or RAID 1 reads its first leg that can be built, a thin LV maps
/// its blocks through its pool's metadata, a snapshot reads its origin and exception store.
/// Hostile metadata cannot make it loop or explode: sub-LVs nest at most `maxDepth` deep and
/// one LV's device takes at most `maxSteps` LV builds (a mirror of mirrors of missing legs).
final class LogicalVolumeDevice {
    let group: VolumeGroupMetadata
    /// The PV device for each PV key of the metadata that is in the point.
    let physical: [String: any BlockDevice]
    /// Each key's PV UUID, for messages.
    let uuids: [String: String]
    private let volumes: [String: VolumeGroupMetadata.LogicalVolume]
    private let physicalVolumes: [String: VolumeGroupMetadata.PhysicalVolume]
    /// Exception store LV → (origin LV, bytes per chunk) of each old-style snapshot.
    private let snapshots: [String: (origin: String, chunkSize: UInt64)]
    private var steps = 0

    /// Sub-LVs (legs of legs) deeper than this are refused: LVM nests at most two.
    static let maxDepth = 4
    static let maxSteps = 1024

    init(group: VolumeGroupMetadata, physical: [String: any BlockDevice]) {
        self.group = group
        self.physical = physical
        uuids = Dictionary(group.physicalVolumes.map { ($0.key, $0.uuid) }) { first, _ in first }
        volumes = Dictionary(group.logicalVolumes.map { ($0.name, $0) }) { first, _ in first }
        physicalVolumes = Dictionary(group.physicalVolumes.map { ($0.key, $0) }) { first, _ in first }
        var snapshots: [String: (origin: String, chunkSize: UInt64)] = [:]
        for segment in group.logicalVolumes.flatMap(\.segments) {
            if case let .snapshot(origin, store, chunkSize)? = segment.source { snapshots[store] = (origin, chunkSize) }
        }
        self.snapshots = snapshots
    }

    /// The device of `volume`, a top-level LV.
    func device(_ volume: VolumeGroupMetadata.LogicalVolume) throws(LVMError) -> any BlockDevice {
        steps = 0
        return try build(volume, depth: 0)
    }

    private func build(_ volume: VolumeGroupMetadata.LogicalVolume, depth: Int) throws(LVMError) -> any BlockDevice {
        guard depth <= Self.maxDepth else { throw .metadata("LV \(volume.name) nests sub-LVs deeper than \(Self.maxDepth)", line: nil) }
        steps += 1
        guard steps <= Self.maxSteps else { throw .metadata("LV \(volume.name) refers to sub-LVs more than \(Self.maxSteps) times", line: nil) }
        if let snapshot = snapshot(storedIn: volume) { return try self.snapshot(snapshot, store: volume, depth: depth) }
        return try segments(of: volume, depth: depth)
    }

    /// The snapshot whose exceptions `volume` stores, if any: (origin LV, bytes per chunk).
    func snapshot(storedIn volume: VolumeGroupMetadata.LogicalVolume) -> (origin: String, chunkSize: UInt64)? {
        snapshots[volume.name]
    }

    /// An old-style snapshot: the origin, with the chunks its exception store holds.
    private func snapshot(_ snapshot: (origin: String, chunkSize: UInt64), store volume: VolumeGroupMetadata.LogicalVolume,
                          depth: Int) throws(LVMError) -> any BlockDevice {
        guard let origin = volumes[snapshot.origin], origin.name != volume.name else {
            throw .metadata("snapshot \(volume.name): origin \(snapshot.origin) is not in the VG", line: nil)
        }
        return try SnapshotDevice(origin: try build(origin, depth: depth + 1), store: try segments(of: volume, depth: depth),
                                  chunkSize: snapshot.chunkSize, name: volume.name)
    }

    /// The LV's own segments, end to end.
    private func segments(of volume: VolumeGroupMetadata.LogicalVolume, depth: Int) throws(LVMError) -> any BlockDevice {
        var parts: [any BlockDevice] = []
        var next: UInt64 = 0
        for segment in volume.segments {
            guard segment.startExtent == next else {
                throw .metadata("LV \(volume.name): segment at extent \(segment.startExtent), expected \(next)", line: nil)
            }
            parts.append(try self.segment(segment, of: volume, depth: depth))
            next = try add(next, segment.extentCount, volume)
        }
        return try wrap { () throws(DiskReadError) in try ConcatenatedDevice(parts) }
    }

    private func segment(_ segment: VolumeGroupMetadata.Segment, of volume: VolumeGroupMetadata.LogicalVolume, depth: Int) throws(LVMError) -> any BlockDevice {
        let bytes = try multiply(segment.extentCount, group.extentSize, volume)
        switch segment.type {
        case "striped":
            let count = UInt64(segment.areas.count)
            guard count > 0, segment.extentCount % count == 0 else {
                throw .metadata("LV \(volume.name): \(segment.extentCount) extents do not divide into \(count) stripes", line: nil)
            }
            let stripes = try segment.areas.map { area throws(LVMError) in
                try self.area(area, bytes: bytes / count, of: volume, depth: depth)
            }
            if stripes.count == 1 { return stripes[0] }
            return try wrap { () throws(DiskReadError) in try StripedDevice(stripes, chunkSize: segment.stripeSize) }
        case "mirror", "raid1":
            var first: LVMError?
            for leg in segment.areas {
                do {
                    return try area(leg, bytes: bytes, of: volume, depth: depth)
                } catch {
                    first = first ?? error
                }
            }
            throw first ?? .metadata("LV \(volume.name): \(segment.type) segment without legs", line: nil)
        case "thin":
            return try thin(segment, of: volume, bytes: bytes, depth: depth)
        default:
            throw .unsupported(logicalVolume: volume.name, type: segment.type)
        }
    }

    /// A thin LV: its blocks looked up in its pool's metadata, read from the pool's data LV.
    private func thin(_ segment: VolumeGroupMetadata.Segment, of volume: VolumeGroupMetadata.LogicalVolume, bytes: UInt64,
                      depth: Int) throws(LVMError) -> any BlockDevice {
        guard case let .thin(poolName, id)? = segment.source, segment.startExtent == 0, volume.segments.count == 1 else {
            throw .metadata("LV \(volume.name): a thin LV is one segment from extent 0", line: nil)
        }
        guard let pool = volumes[poolName], pool.segments.count == 1,
              case let .thinPool(metadataName, dataName, chunkSize)? = pool.segments.first?.source,
              let metadataLV = volumes[metadataName], let dataLV = volumes[dataName]
        else { throw .metadata("LV \(volume.name): thin pool \(poolName) is missing or incomplete", line: nil) }
        let metadata = try ThinPoolMetadata(try build(metadataLV, depth: depth + 1))
        guard metadata.dataBlockSize == chunkSize else {
            throw .metadata("thin pool \(poolName): \(metadata.dataBlockSize)-byte blocks in its metadata, \(chunkSize) in the VG's", line: nil)
        }
        guard let root = try metadata.deviceRoot(id) else {
            throw .metadata("thin device \(id) of LV \(volume.name) is not in pool \(poolName)'s metadata", line: nil)
        }
        return ThinDevice(metadata: metadata, root: root, data: try build(dataLV, depth: depth + 1), size: bytes)
    }

    /// `bytes` of one area, from its first extent.
    private func area(_ area: VolumeGroupMetadata.Area, bytes: UInt64, of volume: VolumeGroupMetadata.LogicalVolume, depth: Int) throws(LVMError) -> any BlockDevice {
        switch area {
        case let .physical(key, extent):
            guard let pv = physicalVolumes[key] else {
                throw .metadata("LV \(volume.name) refers to unknown PV \(key)", line: nil)
            }
            guard let device = physical[key] else { throw .missingPhysicalVolume(logicalVolume: volume.name, uuid: uuids[key] ?? key) }
            let start = try add(pv.extentStart, try multiply(extent, group.extentSize, volume), volume)
            return try wrap { () throws(DiskReadError) in try DeviceSlice(device, offset: start, size: bytes) }
        case let .logical(name, extent):
            guard let sub = volumes[name] else {
                throw .metadata("LV \(volume.name) refers to unknown LV \(name)", line: nil)
            }
            let device = try build(sub, depth: depth + 1)
            let start = try multiply(extent, group.extentSize, volume)
            return try wrap { () throws(DiskReadError) in try DeviceSlice(device, offset: start, size: bytes) }
        }
    }

    private func wrap<T>(_ body: () throws(DiskReadError) -> T) throws(LVMError) -> T {
        do {
            return try body()
        } catch {
            throw .metadata("extents outside their device: \(error)", line: nil)
        }
    }

    private func add(_ a: UInt64, _ b: UInt64, _ volume: VolumeGroupMetadata.LogicalVolume) throws(LVMError) -> UInt64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        guard !overflow else { throw .metadata("LV \(volume.name): extents out of range", line: nil) }
        return sum
    }

    private func multiply(_ a: UInt64, _ b: UInt64, _ volume: VolumeGroupMetadata.LogicalVolume) throws(LVMError) -> UInt64 {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        guard !overflow else { throw .metadata("LV \(volume.name): extents out of range", line: nil) }
        return product
    }
}
