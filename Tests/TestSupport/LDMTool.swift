import Foundation

/// What ldmtool (libldm) reports of dynamic disk images: the independent reader LDM tests
/// check rpfs and `LDMImageBuilder` against.
public struct LDMToolReport: Sendable {
    public struct Volume: Sendable {
        public let name: String
        public let guid: String
        public let type: String
        /// In sectors, as ldmtool gives sizes.
        public let size: UInt64
        public let chunkSize: UInt64
        public let partitions: [String]
    }

    public struct Partition: Sendable {
        public let name: String
        public let start: UInt64
        public let size: UInt64
        public let disk: String
    }

    public struct Disk: Sendable {
        public let name: String
        public let guid: String
        public let present: Bool
    }

    public let groupGUID: String
    public let groupName: String
    public let volumes: [Volume]
    public let partitions: [String: Partition]
    public let disks: [Disk]

    /// `ldmtool scan` of `images`, then `show diskgroup`, and `show volume`, `partition` and
    /// `disk` for everything the group names. ldmtool reads plain image files (512-byte sectors).
    public static func read(_ images: [String]) throws -> LDMToolReport {
        let devices = images.flatMap { ["-d", $0] }
        let scan = try Shell.run("ldmtool", ["scan"] + images)
        let guids = try JSONSerialization.jsonObject(with: Data(scan.stdout.utf8)) as? [String] ?? []
        guard guids.count == 1 else { throw TestFailure("ldmtool scan found \(guids.count) disk groups: \(scan.stderr)") }
        let guid = guids[0]
        let group = try object(devices + ["show", "diskgroup", guid])
        var volumes: [Volume] = []
        var partitions: [String: Partition] = [:]
        for name in group["volumes"] as? [String] ?? [] {
            let volume = try object(devices + ["show", "volume", guid, name])
            let parts = volume["partitions"] as? [String] ?? []
            volumes.append(Volume(name: name, guid: volume["guid"] as? String ?? "", type: volume["type"] as? String ?? "",
                                  size: number(volume["size"]), chunkSize: number(volume["chunk-size"]), partitions: parts))
            for part in parts {
                let shown = try object(devices + ["show", "partition", guid, part])
                partitions[part] = Partition(name: part, start: number(shown["start"]), size: number(shown["size"]), disk: shown["disk"] as? String ?? "")
            }
        }
        let disks = try (group["disks"] as? [String] ?? []).map { name in
            let disk = try object(devices + ["show", "disk", guid, name])
            return Disk(name: name, guid: disk["guid"] as? String ?? "", present: disk["present"] as? Bool ?? false)
        }
        return LDMToolReport(groupGUID: guid, groupName: group["name"] as? String ?? "", volumes: volumes, partitions: partitions, disks: disks)
    }

    private static func json(_ arguments: [String]) throws -> Any {
        let output = try Shell.check("ldmtool", arguments)
        return try JSONSerialization.jsonObject(with: Data(output.utf8))
    }

    private static func object(_ arguments: [String]) throws -> [String: Any] {
        guard let object = try json(arguments) as? [String: Any] else { throw TestFailure("ldmtool \(arguments): not an object") }
        return object
    }

    private static func number(_ value: Any?) -> UInt64 {
        (value as? NSNumber)?.uint64Value ?? 0
    }
}
