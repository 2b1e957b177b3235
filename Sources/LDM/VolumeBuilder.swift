import BlockDevices

/// Builds each volume of a database from its components and their partitions: a component
/// of one or more partitions concatenated (simple, spanned; several such components are a
/// mirrored volume's plexes), a striped or a RAID-5 one.
struct VolumeBuilder {
    let records: [Record]
    /// The disks of the group that the point holds, by disk record id.
    let disks: [UInt32: DynamicDisk]

    func volumes() -> [DynamicVolume] {
        var components: [Record.Component] = []
        var partitions: [Record.Partition] = []
        var diskRecords: [UInt32: Record.Disk] = [:]
        var volumes: [Record.Volume] = []
        for record in records {
            switch record {
            case let .volume(volume): volumes.append(volume)
            case let .component(component): components.append(component)
            case let .partition(partition): partitions.append(partition)
            case let .disk(disk): diskRecords[disk.id] = disk
            case .diskGroup: continue
            }
        }
        // Grouped once: a hostile database may hold hundreds of thousands of records.
        let componentsOf = Dictionary(grouping: components, by: \.volume)
        let partitionsOf = Dictionary(grouping: partitions, by: \.component)
        return volumes.map { volume in
            let plexes = (componentsOf[volume.id] ?? []).map { component in
                (component, (partitionsOf[component.id] ?? []).sorted { order($0, $1, component.layout) })
            }
            let extents = plexes.enumerated().flatMap { plex, entry in
                entry.1.map { DynamicVolume.Extent(partition: $0, disk: diskRecords[$0.disk], plex: plex) }
            }
            let layout = Self.layout(volume, plexes.map(\.0))
            let chunk = plexes.first.map { $0.0.layout == .concatenated ? 0 : $0.0.chunkSize } ?? 0
            let size = volume.size.multipliedReportingOverflow(by: PrivateHeader.sectorSize)
            let bytes = size.overflow ? UInt64.max : size.partialValue
            let chunkBytes = chunk.multipliedReportingOverflow(by: PrivateHeader.sectorSize)
            do throws(LDMError) {
                let device = try build(volume, layout: layout, plexes: plexes, diskRecords: diskRecords)
                return DynamicVolume(record: volume, layout: layout, size: bytes, chunkSize: chunkBytes.overflow ? 0 : chunkBytes.partialValue,
                                     extents: extents, device: device, problem: nil)
            } catch {
                return DynamicVolume(record: volume, layout: layout, size: bytes, chunkSize: chunkBytes.overflow ? 0 : chunkBytes.partialValue,
                                     extents: extents, device: RefusedDevice(size: bytes, fault: DynamicVolumeFault(error: error)), problem: error)
            }
        }
    }

    /// Columns in index order; a spanned component's partitions in volume order.
    private func order(_ a: Record.Partition, _ b: Record.Partition, _ layout: Record.Component.Layout) -> Bool {
        layout == .concatenated ? a.volumeOffset < b.volumeOffset : a.index < b.index
    }

    /// As libldm names the layouts; nil for a combination Windows does not make.
    static func layout(_ volume: Record.Volume, _ components: [Record.Component]) -> DynamicVolume.Layout? {
        guard let first = components.first else { return nil }
        switch (volume.isRAID5, first.layout, components.count) {
        case (false, .concatenated, 1): return first.partitionCount > 1 ? .spanned : .simple
        case (false, .concatenated, _): return .mirrored
        case (false, .striped, 1): return .striped
        case (true, .raid5, 1): return .raid5
        default: return nil
        }
    }

    private func build(_ volume: Record.Volume, layout: DynamicVolume.Layout?, plexes: [(Record.Component, [Record.Partition])],
                       diskRecords: [UInt32: Record.Disk]) throws(LDMError) -> any BlockDevice {
        guard UInt32(plexes.count) == volume.componentCount else {
            throw .database("volume \(volume.name) names \(volume.componentCount) components, the database holds \(plexes.count)")
        }
        guard let layout else {
            throw .unsupported(volume: volume.name, reason: "combines its \(plexes.count) components in a way Windows does not")
        }
        var firstError: LDMError?
        // A mirrored volume reads its first plex whose disks are all present.
        for (component, partitions) in plexes {
            do throws(LDMError) {
                let device = try plex(component, partitions, volume: volume, diskRecords: diskRecords)
                return try fit(device, volume: volume)
            } catch {
                firstError = firstError ?? error
                guard layout == .mirrored else { throw error }
            }
        }
        throw firstError ?? .database("volume \(volume.name) has no components")
    }

    private func plex(_ component: Record.Component, _ partitions: [Record.Partition], volume: Record.Volume,
                      diskRecords: [UInt32: Record.Disk]) throws(LDMError) -> any BlockDevice {
        guard UInt32(partitions.count) == component.partitionCount, !partitions.isEmpty else {
            throw .database("component \(component.name) names \(component.partitionCount) partitions, the database holds \(partitions.count)")
        }
        let devices = try partitions.map { partition throws(LDMError) in try device(partition, volume: volume, diskRecords: diskRecords) }
        let chunk = component.chunkSize.multipliedReportingOverflow(by: PrivateHeader.sectorSize)
        do {
            switch component.layout {
            case .concatenated:
                var next: UInt64 = 0
                for partition in partitions {
                    guard partition.volumeOffset == next else {
                        throw LDMError.database("partition \(partition.name) is at sector \(partition.volumeOffset) of its volume, expected \(next)")
                    }
                    next = partition.volumeOffset.addingReportingOverflow(partition.size).partialValue
                }
                return try ConcatenatedDevice(devices)
            case .striped, .raid5:
                guard component.columns == UInt32(partitions.count), partitions.map(\.index) == Array(0 ..< UInt32(partitions.count)),
                      !chunk.overflow
                else {
                    throw LDMError.database("component \(component.name): \(component.columns) columns, partitions at columns \(partitions.map(\.index))")
                }
                if component.layout == .striped { return try StripedDevice(devices, chunkSize: chunk.partialValue) }
                return try ParityStripedDevice(devices, chunkSize: chunk.partialValue)
            }
        } catch let error as LDMError {
            throw error
        } catch {
            throw .database("component \(component.name): its partitions differ in size or are not whole stripes (\(error))")
        }
    }

    /// The bytes of one partition on its disk.
    private func device(_ partition: Record.Partition, volume: Record.Volume, diskRecords: [UInt32: Record.Disk]) throws(LDMError) -> any BlockDevice {
        guard let record = diskRecords[partition.disk] else {
            throw .database("partition \(partition.name) is on disk \(partition.disk), which the database does not hold")
        }
        guard let disk = disks[partition.disk] else {
            throw .missingDisk(volume: volume.name, disk: record.name, guid: record.guid)
        }
        let (end, overflow) = partition.start.addingReportingOverflow(partition.size)
        guard !overflow, end <= disk.header.logicalDiskSize else {
            throw .database("partition \(partition.name) (sectors \(partition.start)+\(partition.size)) is outside the data of disk \(record.name)")
        }
        // logicalDiskStart + logicalDiskSize was checked, so none of these overflow a sector count;
        // the slice checks the bytes are on the disk.
        let start = (disk.header.logicalDiskStart + partition.start).multipliedReportingOverflow(by: PrivateHeader.sectorSize)
        let size = partition.size.multipliedReportingOverflow(by: PrivateHeader.sectorSize)
        guard !start.overflow, !size.overflow else { throw .database("partition \(partition.name) is outside any disk") }
        do {
            return try DeviceSlice(disk.device, offset: start.partialValue, size: size.partialValue)
        } catch {
            throw .database("partition \(partition.name) is outside disk \(record.name): \(error)")
        }
    }

    /// The plex cut to the volume's size; it must hold at least that many bytes.
    private func fit(_ device: any BlockDevice, volume: Record.Volume) throws(LDMError) -> any BlockDevice {
        let size = volume.size.multipliedReportingOverflow(by: PrivateHeader.sectorSize)
        guard !size.overflow, size.partialValue <= device.size else {
            throw .database("volume \(volume.name) is \(volume.size) sectors, its partitions hold \(device.size / PrivateHeader.sectorSize)")
        }
        do {
            return try DeviceSlice(device, offset: 0, size: size.partialValue)
        } catch {
            throw .device(error)
        }
    }
}
