import BlockDevices
import Foundation
import LVM
import TestSupport
import Testing

/// Thin LVs: the pool's metadata is made by thin_restore (thin-provisioning-tools) from a
/// mapping, and what the pool holds is read back by thin_dump, the oracle for which virtual
/// block is which data block. The VG's metadata is checked in by `vgcfgrestore --force`
/// (lvm2 cannot create pools without device-mapper); `lvs` says where the pool's LVs are.
@Suite(.serialized) struct ThinTests {
    static let blockSize = 64 << 10
    static let dataBlocks = 640

    static func hidden(_ name: String, id: Int, extents: Int, at extent: Int) -> String {
        """
        \(name) { id = "rpfs00-0000-0000-0000-0000-0000-\(String(format: "%06d", id))" status = ["READ", "WRITE"] flags = []
            segment_count = 1
            segment1 { start_extent = 0 extent_count = \(extents) type = "striped" stripe_count = 1 stripes = ["pv0", \(extent)] } }
        """
    }

    static func thin(_ name: String, id: Int, device: Int, extents: Int) -> String {
        """
        \(name) { id = "rpfs00-0000-0000-0000-0000-0000-\(String(format: "%06d", id))" status = ["READ", "WRITE", "VISIBLE"] flags = []
            segment_count = 1
            segment1 { start_extent = 0 extent_count = \(extents) type = "thin" thin_pool = "pool" transaction_id = 0 device_id = \(device) } }
        """
    }

    static let volumes = """
    pool { id = "rpfs00-0000-0000-0000-0000-0000-000001" status = ["READ", "WRITE", "VISIBLE"] flags = []
        segment_count = 1
        segment1 { start_extent = 0 extent_count = 10 type = "thin-pool" metadata = "pool_tmeta" pool = "pool_tdata"
                   transaction_id = 2 chunk_size = 128 discards = "passdown" zero_new_blocks = 0 } }
    \(thin("big", id: 2, device: 1, extents: 32))
    \(thin("small", id: 3, device: 2, extents: 4))
    \(hidden("pool_tmeta", id: 4, extents: 1, at: 0))
    \(hidden("pool_tdata", id: 5, extents: 10, at: 1))
    """

    /// Device 1: 600 scattered blocks (several B-tree leaves); device 2: one range.
    static let mapping: String = {
        let singles = (0 ..< 600).map { "<single_mapping origin_block=\"\($0 * 3)\" data_block=\"\($0 * 7 % 640)\" time=\"0\"/>" }
        return """
        <superblock uuid="" time="1" transaction="2" flags="0" version="2" data_block_size="128" nr_data_blocks="\(dataBlocks)">
        <device dev_id="1" mapped_blocks="600" transaction="0" creation_time="0" snap_time="0">
        \(singles.joined(separator: "\n"))
        </device>
        <device dev_id="2" mapped_blocks="40" transaction="0" creation_time="0" snap_time="0">
        <range_mapping origin_begin="10" data_begin="600" length="40" time="0"/>
        </device>
        </superblock>
        """
    }()

    final class Setup {
        let directory: TemporaryDirectory
        let disk: String
        let builder: LVMBuilder
        let metadata: String
        let data: [UInt8]
        /// Where pool_tmeta starts on the disk, by lvm2's report.
        let metadataOffset: UInt64
        let reported: [(name: String, type: String, size: UInt64)]
        /// thin_dump's reading of the pool: device id → [(virtual block, data block)].
        let dumped: [Int: [(Int, Int)]]

        init() throws {
            let directory = try TemporaryDirectory("rpfs-lvm-thin")
            self.directory = directory
            disk = try directory.image("pv.img", size: 64 << 20)
            builder = try LVMBuilder(name: LVMBuilder.uniqueName("rpfsthin"), pvs: [(disk, 0, 64 << 20)])
            try builder.restoreLogicalVolumes(ThinTests.volumes, directory: directory, arguments: ["--force"])
            reported = try builder.volumeReport()
            let xml = try directory.write("mapping.xml", Array(ThinTests.mapping.utf8))
            metadata = try directory.image("tmeta.img", size: 4 << 20)
            try Shell.check("thin_restore", ["-i", xml, "-o", metadata])
            try builder.write([UInt8](try Data(contentsOf: URL(fileURLWithPath: metadata))), to: "pool_tmeta")
            var random = SeededBytes(seed: 31)
            data = random.bytes(ThinTests.dataBlocks * ThinTests.blockSize)
            try builder.write(data, to: "pool_tdata")
            let extent = try builder.segments("pool_tmeta").first?.areas.first?.extent ?? 0
            metadataOffset = (try builder.physicalReport().first?.extentStart ?? 0) + extent * (try builder.extentSize)
            builder.detach()
            dumped = try Self.dump(metadata)
        }

        static func dump(_ metadata: String) throws -> [Int: [(Int, Int)]] {
            var devices: [Int: [(Int, Int)]] = [:]
            var device = -1
            for line in try Shell.check("thin_dump", [metadata]).split(separator: "\n") {
                func field(_ name: String) -> Int? {
                    line.firstRange(of: "\(name)=\"").flatMap { start in Int(line[start.upperBound...].prefix { $0.isNumber }) }
                }
                if line.contains("<device ") { device = field("dev_id") ?? -1 }
                if line.contains("single_mapping"), let origin = field("origin_block"), let block = field("data_block") {
                    devices[device, default: []].append((origin, block))
                }
                if line.contains("range_mapping"), let origin = field("origin_begin"), let block = field("data_begin"), let length = field("length") {
                    devices[device, default: []] += (0 ..< length).map { (origin + $0, block + $0) }
                }
            }
            return devices
        }

        /// What thin device `id` of `size` bytes holds, by thin_dump's mapping.
        func expected(_ id: Int, size: UInt64) -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: Int(size))
            for (virtual, block) in dumped[id] ?? [] {
                bytes[virtual * ThinTests.blockSize ..< (virtual + 1) * ThinTests.blockSize] =
                    data[block * ThinTests.blockSize ..< (block + 1) * ThinTests.blockSize]
            }
            return bytes
        }

        func group() throws -> VolumeGroup? {
            VolumeGroupAssembly.assemble([.init(location: "/disk0/volume", device: try FileBlockDevice(path: disk))]).volumeGroups.first
        }
    }

    @Test func thinVolumesReadThroughThePoolsMapping() throws {
        let setup = try Setup()
        #expect(setup.dumped[1]?.count == 600)
        #expect(setup.dumped[2]?.count == 40)
        let group = try #require(try setup.group())
        #expect(group.logicalVolumes.map(\.name).sorted() == setup.reported.map(\.name).sorted())
        for (name, id) in [("big", 1), ("small", 2)] {
            let volume = try #require(group.logicalVolumes.first { $0.name == name })
            let reported = try #require(setup.reported.first { $0.name == name })
            #expect(volume.type == reported.type)
            #expect(volume.size == reported.size)
            #expect(volume.problem == nil, "\(String(describing: volume.problem))")
            #expect(try volume.device.read(at: 0, count: Int(volume.size)) == setup.expected(id, size: volume.size), "\(name)")
        }
        // The pool itself is not a volume to read.
        let pool = try #require(group.logicalVolumes.first { $0.name == "pool" })
        guard case .unsupported(_, "thin-pool")? = pool.problem else { Issue.record("pool: \(String(describing: pool.problem))"); return }
    }

    @Test func damagedPoolMetadataIsAnErrorNotZeros() throws {
        let setup = try Setup()
        let group = try #require(try setup.group())
        let start = setup.metadataOffset
        #expect(group.logicalVolumes.first { $0.name == "big" }?.problem == nil)
        // Every metadata block but the superblock loses a byte in its middle: each lookup
        // meets a checksum that fails.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: setup.disk))
        for block in 1 ..< 64 {
            try handle.seek(toOffset: start + UInt64(block * 4096 + 2000))
            try handle.write(contentsOf: [0x5A])
        }
        try handle.close()
        let damaged = try #require(try setup.group())
        let big = try #require(damaged.logicalVolumes.first { $0.name == "big" })
        #expect(big.problem.map { "\($0)".contains("checksum") } == true, "\(String(describing: big.problem))")
        #expect(throws: DiskReadError.self) { try big.device.read(at: 0, count: 4096) }
    }
}
