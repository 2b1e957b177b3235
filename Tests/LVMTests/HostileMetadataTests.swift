import BlockDevices
import Foundation
@testable import LVM
import Testing

/// Volume group metadata that parses but describes something hostile: every outcome is a
/// device or an `LVMError`, quickly, never a crash, a hang or a loop.
@Suite struct HostileMetadataTests {
    static func group(_ volumes: String, extentSize: Int = 8192) throws(LVMError) -> VolumeGroupMetadata {
        try VolumeGroupMetadata(Array("""
        vg { id = "aaaaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaaaa" seqno = 1 extent_size = \(extentSize)
        physical_volumes { pv0 { id = "bbbbbb-bbbb-bbbb-bbbb-bbbb-bbbb-bbbbbb" pe_start = 2048 pe_count = 10 } }
        logical_volumes { \(volumes) } }
        """.utf8))
    }

    static func lv(_ name: String, _ segment: String, visible: Bool = true) -> String {
        "\(name) { id = \"cccccc-cccc-cccc-cccc-cccc-cccc-cccccc\" status = [\(visible ? "\"VISIBLE\"" : "")] segment_count = 1 segment1 { \(segment) } }\n"
    }

    /// A PV of 10 extents of 4 MiB after 1 MiB, in memory: zeros.
    final class Zeros: BlockDevice {
        let size: UInt64 = (1 << 20) + 10 * (4 << 20)
        func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DiskReadError) {
            try checkRange(offset, buffer.count)
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
        }
    }

    private func device(_ volumes: String, _ name: String, present: Bool = true) throws -> Result<any BlockDevice, LVMError> {
        let group = try Self.group(volumes)
        let builder = LogicalVolumeDevice(group: group, physical: present ? ["pv0": Zeros()] : [:])
        let volume = try #require(group.logicalVolumes.first { $0.name == name })
        return Result { () throws(LVMError) in try builder.device(volume) }
    }

    @Test func mirrorsOfMirrorsOfMissingLegsStopAtTheStepBound() throws {
        // Each level has 64 legs, all of the next level: 64^4 builds without a bound.
        var volumes = Self.lv("leaf", "start_extent = 0 extent_count = 1 type = \"striped\" stripe_count = 1 stripes = [\"pv0\", 0]", visible: false)
        var below = "leaf"
        for level in 0 ..< 5 {
            let legs = Array(repeating: "\"\(below)\", 0", count: 64).joined(separator: ", ")
            below = "m\(level)"
            volumes += Self.lv(below, "start_extent = 0 extent_count = 1 type = \"mirror\" mirrors = [\(legs)]", visible: level == 4)
        }
        let start = ContinuousClock.now
        guard case let .failure(error) = try device(volumes, "m4", present: false) else { Issue.record("built without its PV"); return }
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect("\(error)".contains("more than") || "\(error)".contains("deeper"), "\(error)")
    }

    @Test func aLegThatIsItselfIsBounded() throws {
        let volumes = Self.lv("loop", "start_extent = 0 extent_count = 1 type = \"mirror\" mirrors = [\"loop\", 0]")
        guard case .failure = try device(volumes, "loop") else { Issue.record("a self-referencing mirror built"); return }
    }

    @Test(arguments: [
        ("start_extent = 0 extent_count = 20 type = \"striped\" stripe_count = 1 stripes = [\"pv0\", 0]", "outside"),
        ("start_extent = 0 extent_count = 1 type = \"striped\" stripe_count = 1 stripes = [\"pv0\", 9223372036854775807]", "range"),
        ("start_extent = 0 extent_count = 3 type = \"striped\" stripe_count = 2 stripes = [\"pv0\", 0, \"pv0\", 5]", "divide"),
        ("start_extent = 5 extent_count = 1 type = \"striped\" stripe_count = 1 stripes = [\"pv0\", 0]", "expected 0"),
        ("start_extent = 0 extent_count = 1 type = \"striped\" stripe_count = 1 stripes = [\"pv9\", 0]", "unknown LV pv9"),
        ("start_extent = 0 extent_count = 1 type = \"thin\" thin_pool = \"nothing\" device_id = 1", "thin pool nothing"),
        ("start_extent = 0 extent_count = 1 type = \"cache\"", "not supported: LV bad is cache"),
    ])
    func impossibleSegmentsAreErrors(segment: String, reason: String) throws {
        guard case let .failure(error) = try device(Self.lv("bad", segment), "bad") else { Issue.record("built: \(segment)"); return }
        #expect("\(error)".contains(reason), "\(error)")
    }

    @Test func badNamesAndIdsAreRefused() {
        #expect(throws: LVMError.self) { try Self.group(Self.lv("..", "start_extent = 0 extent_count = 0 type = \"striped\" stripes = []")) }
        #expect(throws: LVMError.self) { try Self.group(Self.lv("a/b", "start_extent = 0 extent_count = 0 type = \"striped\" stripes = []")) }
        #expect(throws: LVMError.self) {
            try Self.group(Self.lv("same", "type = \"striped\" start_extent = 0 extent_count = 0") + Self.lv("same", "type = \"striped\" start_extent = 0 extent_count = 0"))
        }
        #expect(throws: LVMError.self) { try Self.group("", extentSize: 0) }
        #expect(throws: LVMError.self) {
            try VolumeGroupMetadata(Array("vg { id = \"../../etc\" seqno = 1 extent_size = 8 }".utf8))
        }
    }
}
