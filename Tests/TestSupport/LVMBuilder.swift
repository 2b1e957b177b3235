import Foundation

/// A volume group made by the real lvm2 tools on loop devices over byte ranges of image files
/// (a whole unpartitioned disk, or one partition), without device-mapper (`--driverloaded n`):
/// LVM writes the labels and metadata; the tools' own reports (`lvs`, `pvs`, `vgs` as JSON)
/// say where each LV's extents are, and `write` puts bytes there through the loop devices.
public final class LVMBuilder {
    public struct PhysicalVolume {
        public let image: String
        public let offset: UInt64
        public let size: UInt64
        public let loop: String
    }

    /// One segment as `lvs --segments` reports it.
    public struct Segment: Equatable {
        public let startExtent: UInt64
        public let extentCount: UInt64
        public let type: String
        public let stripeSize: UInt64
        /// (loop device, first extent) for each stripe or leg.
        public let areas: [(device: String, extent: UInt64)]

        public static func == (lhs: Segment, rhs: Segment) -> Bool {
            lhs.startExtent == rhs.startExtent && lhs.extentCount == rhs.extentCount && lhs.type == rhs.type
                && lhs.stripeSize == rhs.stripeSize && lhs.areas.map(\.device) == rhs.areas.map(\.device)
                && lhs.areas.map(\.extent) == rhs.areas.map(\.extent)
        }
    }

    public let name: String
    public private(set) var physicalVolumes: [PhysicalVolume] = []

    /// A VG name no other test run uses at the same time.
    public static func uniqueName(_ prefix: String) -> String {
        "\(prefix)\(getpid())x\(UInt32.random(in: 0 ... .max))"
    }

    /// Attaches a loop device to each (image, offset, size) and makes a VG of them:
    /// `vgcreate` with `arguments` (e.g. `--pvmetadatacopies 2`).
    public init(name: String, pvs: [(image: String, offset: UInt64, size: UInt64)], arguments: [String] = []) throws {
        self.name = name
        do {
            for pv in pvs {
                let loop = try Shell.check("losetup", ["--find", "--show", "--offset", "\(pv.offset)", "--sizelimit", "\(pv.size)", pv.image])
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                physicalVolumes.append(PhysicalVolume(image: pv.image, offset: pv.offset, size: pv.size, loop: loop))
            }
            try lvm("vgcreate", arguments + [name] + physicalVolumes.map(\.loop))
        } catch {
            detach()
            throw error
        }
    }

    deinit { detach() }

    private var attached = true

    /// Detaches the loop devices; the VG lives on only in the images' bytes. Ask the tools
    /// everything needed before.
    public func detach() {
        guard attached else { return }
        for pv in physicalVolumes {
            _ = try? Shell.run("losetup", ["-d", pv.loop])
        }
        attached = false
    }

    /// Runs an lvm2 command that sees only this builder's loop devices and keeps no backup
    /// or archive of the metadata under /etc/lvm.
    @discardableResult
    public func lvm(_ command: String, _ arguments: [String]) throws -> String {
        let accept = physicalVolumes.map { "\"a|^\($0.loop)$|\"" }.joined(separator: ",")
        let config = "devices{filter=[\(accept),\"r|.*|\"] use_devicesfile=0} backup{backup=0 archive=0} activation{udev_sync=0 udev_rules=0}"
        return try Shell.check(command, ["--config", config] + arguments)
    }

    /// Creates an LV without activating or zeroing it (`lvcreate -L SIZE -n NAME ARGUMENTS`),
    /// on the PVs of `pvs` (indices into `physicalVolumes`) when given.
    public func createVolume(_ lv: String, size: String, _ arguments: [String] = [], on pvs: [Int] = []) throws {
        try lvm("lvcreate", ["--driverloaded", "n", "-an", "-Zn", "-y", "-L", size, "-n", lv] + arguments + [name]
            + pvs.map { physicalVolumes[$0].loop })
    }

    /// Adds LVs that lvm2 cannot create without device-mapper (RAID, mirrors): `sections` are
    /// entries of `logical_volumes` in lvm2's metadata format, put into the VG's metadata with
    /// `vgcfgbackup`, then written back by `vgcfgrestore`, which checks them as lvm2 reads them.
    /// `arguments` go to vgcfgrestore (`--force`, which it wants for thin pools).
    public func restoreLogicalVolumes(_ sections: String, directory: TemporaryDirectory, arguments: [String] = []) throws {
        let file = directory.file("\(name)-metadata.txt")
        try lvm("vgcfgbackup", ["-f", file, name])
        var text = try String(contentsOfFile: file, encoding: .utf8)
        guard let end = text.lastIndex(of: "}") else { throw TestFailure("vgcfgbackup wrote no VG section") }
        text.insert(contentsOf: "logical_volumes {\n\(sections)\n}\n", at: end)
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        try lvm("vgcfgrestore", arguments + ["-f", file, name])
    }

    private func report(_ command: String, _ fields: String, _ extra: [String] = []) throws -> [[String: String]] {
        // pvs takes PV names: the device filter already limits it to this VG's.
        let text = try lvm(command, ["--reportformat", "json", "--units", "b", "--nosuffix", "-o", fields] + extra + (command == "pvs" ? [] : [name]))
        guard let json = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              let reports = json["report"] as? [[String: Any]], let rows = reports.first?.values.first as? [[String: String]]
        else { throw TestFailure("\(command) report not understood: \(text)") }
        return rows
    }

    public var uuid: String { get throws { try report("vgs", "vg_uuid").first?["vg_uuid"] ?? "" } }
    public var extentSize: UInt64 { get throws { UInt64(try report("vgs", "vg_extent_size").first?["vg_extent_size"] ?? "") ?? 0 } }

    /// (loop device, PV UUID, first extent's byte offset on the PV) for each PV.
    public func physicalReport() throws -> [(device: String, uuid: String, extentStart: UInt64)] {
        try report("pvs", "pv_name,pv_uuid,pe_start").map { ($0["pv_name"] ?? "", $0["pv_uuid"] ?? "", UInt64($0["pe_start"] ?? "") ?? 0) }
    }

    /// Every LV `lvs` shows (hidden ones with `all`): name, type, size in bytes.
    /// The segment type field makes `lvs` report one row per segment: an LV whose segments
    /// differ in type gets them joined by "+", in order.
    public func volumeReport(all: Bool = false) throws -> [(name: String, type: String, size: UInt64)] {
        var volumes: [(name: String, type: String, size: UInt64)] = []
        for row in try report("lvs", "lv_name,segtype,lv_size", all ? ["-a"] : []) {
            let name = row["lv_name"] ?? "", type = row["segtype"] ?? ""
            if let index = volumes.firstIndex(where: { $0.name == name }) {
                if !volumes[index].type.split(separator: "+").contains(Substring(type)) { volumes[index].type += "+\(type)" }
            } else {
                volumes.append((name, type, UInt64(row["lv_size"] ?? "") ?? 0))
            }
        }
        return volumes
    }

    /// The segments of `lv`, hidden LVs (RAID images, mirror legs) included.
    public func segments(_ lv: String) throws -> [Segment] {
        try report("lvs", "lv_name,seg_start_pe,seg_size_pe,segtype,stripe_size,seg_pe_ranges", ["--segments", "-a"])
            .filter { $0["lv_name"] == lv || $0["lv_name"] == "[\(lv)]" }.map { row in
            // "/dev/loop3:0-14 /dev/loop4:0-14"
            let areas = (row["seg_pe_ranges"] ?? "").split(separator: " ").map { range -> (String, UInt64) in
                let parts = range.split(separator: ":")
                return (String(parts[0]), UInt64(parts[1].split(separator: "-")[0]) ?? 0)
            }
            return Segment(startExtent: UInt64(row["seg_start_pe"] ?? "") ?? 0, extentCount: UInt64(row["seg_size_pe"] ?? "") ?? 0,
                           type: row["segtype"] ?? "", stripeSize: UInt64(row["stripe_size"] ?? "") ?? 0, areas: areas)
        }
    }

    /// Writes `bytes` at the start of LV `lv`, placing each piece where `lvs` says that part of
    /// the LV lives: linear segments in order, striped ones chunk by chunk across their stripes.
    public func write(_ bytes: [UInt8], to lv: String) throws {
        let extent = try extentSize
        let starts = Dictionary(try physicalReport().map { ($0.device, $0.extentStart) }) { a, _ in a }
        var handles: [String: FileHandle] = [:]
        defer {
            for handle in handles.values {
                try? handle.synchronize()
                try? handle.close()
            }
        }
        for segment in try segments(lv) {
            let stripes = UInt64(segment.areas.count)
            let chunk = stripes == 1 ? segment.extentCount * extent : segment.stripeSize
            let segmentStart = segment.startExtent * extent
            var offset: UInt64 = 0
            while offset < segment.extentCount * extent, segmentStart + offset < UInt64(bytes.count) {
                let index = offset / chunk
                let area = segment.areas[Int(index % stripes)]
                let target = (starts[area.device] ?? 0) + area.extent * extent + (index / stripes) * chunk
                let end = min(Int(segmentStart + offset + chunk), bytes.count)
                if handles[area.device] == nil { handles[area.device] = try FileHandle(forWritingTo: URL(fileURLWithPath: area.device)) }
                try handles[area.device]?.seek(toOffset: target)
                try handles[area.device]?.write(contentsOf: bytes[Int(segmentStart + offset) ..< end])
                offset += chunk
            }
        }
    }
}
