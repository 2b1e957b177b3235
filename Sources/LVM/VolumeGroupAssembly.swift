import BlockDevices
import ByteParsing

/// Finds the volume groups on a set of devices (a point's partitions and unpartitioned
/// disks that carry an LVM2 label): every metadata copy on every PV is read, the newest valid
/// one (highest seqno) of each VG (by VG UUID) is used, and each PV of the metadata is matched
/// by PV UUID to the device that carries it.
public struct VolumeGroupAssembly: Sendable {
    public struct Candidate: Sendable {
        /// Where the device is in the point ("/disk0/part2"), for messages.
        public let location: String
        public let device: any BlockDevice

        public init(location: String, device: any BlockDevice) {
            self.location = location
            self.device = device
        }
    }

    /// What was found on one candidate.
    public struct PhysicalVolume: Sendable {
        public let location: String
        /// The PV UUID from the label; nil when the label could not be read.
        public let uuid: String?
        /// The UUID of the VG whose metadata lists this PV, nil for a PV in no VG (or in one
        /// whose metadata no PV of the point gives: then `problem` says why).
        public let volumeGroup: String?
        public let problem: LVMError?
    }

    public let volumeGroups: [VolumeGroup]
    public let physicalVolumes: [PhysicalVolume]

    public static func assemble(_ candidates: [Candidate]) -> VolumeGroupAssembly {
        var labels: [(candidate: Candidate, label: PhysicalVolumeLabel)] = []
        var problems: [String: LVMError] = [:]
        var copies: [MetadataCopy] = []
        var damaged: [String: [String]] = [:]
        for candidate in candidates {
            let label: PhysicalVolumeLabel
            do throws(LVMError) {
                guard let found = try PhysicalVolumeLabel.read(candidate.device) else {
                    throw .label(.invalid(what: "LVM2 label", at: 0, reason: "none in the first four sectors"))
                }
                label = found
            } catch {
                problems[candidate.location] = error
                continue
            }
            labels.append((candidate, label))
            let found = copies.count
            for (index, area) in label.metadataAreas.enumerated() {
                let place = "\(candidate.location) metadata area \(index + 1)"
                do throws(LVMError) {
                    guard let text = try MetadataArea.read(candidate.device, area: area) else { continue }
                    copies.append(MetadataCopy(place: place, metadata: try VolumeGroupMetadata(text)))
                } catch {
                    // Which VG a damaged copy belonged to is not known: note it on every VG this PV is in.
                    damaged[label.uuid, default: []].append("\(place): \(error)")
                }
            }
            if copies.count == found, let reasons = damaged[label.uuid] {
                problems[candidate.location] = .noUsableMetadata(reasons)
            }
        }
        var groups: [VolumeGroup] = []
        for uuid in orderedUnique(copies.map(\.metadata.uuid)) {
            let found = copies.filter { $0.metadata.uuid == uuid }
            // The first copy among those with the highest seqno: found in disk order.
            guard let newest = found.max(by: { $0.metadata.seqno < $1.metadata.seqno }).map(\.metadata.seqno),
                  let chosen = found.first(where: { $0.metadata.seqno == newest })
            else { continue }
            groups.append(group(chosen, others: found, labels: labels, damaged: damaged))
        }
        let physical = candidates.map { candidate -> PhysicalVolume in
            let uuid = labels.first { $0.candidate.location == candidate.location }?.label.uuid
            let group = groups.first { group in group.members.contains { $0.location == candidate.location } }
            return PhysicalVolume(location: candidate.location, uuid: uuid, volumeGroup: group?.uuid, problem: problems[candidate.location])
        }
        return VolumeGroupAssembly(volumeGroups: groups, physicalVolumes: physical)
    }

    private struct MetadataCopy {
        let place: String
        let metadata: VolumeGroupMetadata
    }

    private static func group(_ chosen: MetadataCopy, others: [MetadataCopy],
                              labels: [(candidate: Candidate, label: PhysicalVolumeLabel)], damaged: [String: [String]]) -> VolumeGroup {
        let metadata = chosen.metadata
        var notes = others.filter { $0.metadata.seqno < metadata.seqno }
            .map { "\($0.place) holds older metadata (seqno \($0.metadata.seqno), using \(metadata.seqno) from \(chosen.place))" }
        var devices: [String: any BlockDevice] = [:]
        let members = metadata.physicalVolumes.map { pv -> VolumeGroup.Member in
            let matches = labels.filter { $0.label.uuid == pv.uuid }
            notes += damaged[pv.uuid] ?? []
            if matches.count > 1 {
                notes.append("PV \(pv.uuid) appears at \(matches.map(\.candidate.location).joined(separator: " and ")); using the first")
            }
            devices[pv.key] = matches.first?.candidate.device
            return VolumeGroup.Member(uuid: pv.uuid, location: matches.first?.candidate.location, extentCount: pv.extentCount)
        }
        let builder = LogicalVolumeDevice(group: metadata, physical: devices)
        // lvm2 does not mark a snapshot's exception store VISIBLE, yet shows it: it is the snapshot.
        let volumes = metadata.logicalVolumes.filter { $0.isVisible || builder.snapshot(storedIn: $0) != nil }.map { volume in
            logicalVolume(volume, in: metadata, builder: builder)
        }
        return VolumeGroup(metadata: metadata, members: members, logicalVolumes: volumes, notes: notes)
    }

    private static func logicalVolume(_ volume: VolumeGroupMetadata.LogicalVolume, in group: VolumeGroupMetadata,
                                      builder: LogicalVolumeDevice) -> LogicalVolume {
        let extents = volume.segments.reduce(UInt64(0)) { total, segment in
            total.addingReportingOverflow(segment.extentCount).overflow ? .max : total + segment.extentCount
        }
        let (size, overflow) = extents.multipliedReportingOverflow(by: group.extentSize)
        let types = orderedUnique(volume.segments.map(\.reportedType))
        // The LV users know as an old-style snapshot stores its exceptions; it reads as big as its origin.
        let isSnapshot = builder.snapshot(storedIn: volume) != nil
        let type = isSnapshot ? "snapshot" : types.isEmpty ? "empty" : types.joined(separator: "+")
        do {
            let device = try builder.device(volume)
            return LogicalVolume(metadata: volume, type: type, size: isSnapshot ? device.size : overflow ? .max : size, device: device, problem: nil)
        } catch {
            return LogicalVolume(metadata: volume, type: type, size: overflow ? .max : size,
                                 device: RefusedDevice(size: overflow ? .max : size, fault: LogicalVolumeFault(error: error)), problem: error)
        }
    }

    private static func orderedUnique(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }
    }
}
