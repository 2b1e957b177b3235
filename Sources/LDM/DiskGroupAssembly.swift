import BlockDevices

/// Finds the disk groups on a point's dynamic disks: each disk's private region is read, the
/// database with the highest committed sequence of each group (by disk group GUID) is used,
/// and each disk record is matched by disk GUID to the PRIVHEAD of a disk in the point.
public struct DiskGroupAssembly: Sendable {
    public struct Candidate: Sendable {
        /// Where the disk is in the point ("/disk0"), for messages.
        public let location: String
        /// The whole disk.
        public let device: any BlockDevice
        /// Where PRIVHEAD copies may be, in bytes from the disk's start.
        public let headerOffsets: [UInt64]

        public init(location: String, device: any BlockDevice, headerOffsets: [UInt64]) {
            self.location = location
            self.device = device
            self.headerOffsets = headerOffsets
        }
    }

    /// What was found on one candidate.
    public struct Outcome: Sendable {
        public let location: String
        /// The disk's GUID and group from its PRIVHEAD; nil when it could not be read.
        public let header: PrivateHeader?
        public let problem: LDMError?
    }

    public let groups: [DiskGroup]
    public let disks: [Outcome]

    public static func assemble(_ candidates: [Candidate]) -> DiskGroupAssembly {
        var read: [DynamicDisk] = []
        var outcomes: [Outcome] = []
        for candidate in candidates {
            do throws(LDMError) {
                let disk = try DynamicDisk.read(candidate.device, location: candidate.location, headerOffsets: candidate.headerOffsets)
                read.append(disk)
                outcomes.append(Outcome(location: candidate.location, header: disk.header, problem: nil))
            } catch {
                outcomes.append(Outcome(location: candidate.location, header: nil, problem: error))
            }
        }
        var groups: [DiskGroup] = []
        var seen = Set<String>()
        for guid in read.map(\.header.diskGroupGUID) where seen.insert(guid).inserted {
            let disks = read.filter { $0.header.diskGroupGUID == guid }
            // The first disk among those with the highest committed sequence, in disk order.
            guard let newest = disks.map(\.database.committedSequence).max(),
                  let chosen = disks.first(where: { $0.database.committedSequence == newest })
            else { continue }
            groups.append(group(chosen, disks: disks))
        }
        return DiskGroupAssembly(groups: groups, disks: outcomes)
    }

    private static func group(_ chosen: DynamicDisk, disks: [DynamicDisk]) -> DiskGroup {
        let database = chosen.database
        var notes = disks.flatMap { disk in disk.notes.map { "\(disk.location): \($0)" } }
        notes += disks.filter { $0.database.committedSequence < database.committedSequence }.map {
            "\($0.location) holds an older database (sequence \($0.database.committedSequence), using \(database.committedSequence) from \(chosen.location))"
        }
        var present: [UInt32: DynamicDisk] = [:]
        var members: [DiskGroup.Member] = []
        var name = chosen.header.diskGroupName
        for record in database.records {
            switch record {
            case let .disk(disk):
                let matches = disks.filter { $0.header.diskGUID == disk.guid }
                if matches.count > 1 {
                    notes.append("disk \(disk.name) (\(disk.guid)) appears at \(matches.map(\.location).joined(separator: " and ")); using the first")
                }
                present[disk.id] = matches.first
                members.append(DiskGroup.Member(record: disk, location: matches.first?.location))
            case let .diskGroup(_, groupName) where !groupName.isEmpty:
                name = groupName
            default:
                continue
            }
        }
        let builder = VolumeBuilder(records: database.records, disks: present)
        return DiskGroup(guid: chosen.header.diskGroupGUID, name: name, sequence: database.committedSequence, members: members,
                         volumes: builder.volumes(), notes: notes)
    }
}
