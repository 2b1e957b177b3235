import BlockDevices
import POSIXFiles
import Testing
import VolumeModel

/// A device whose byte at offset i is i mod 251, counting the reads it serves.
final class PatternDevice: BlockDevice, @unchecked Sendable {
    let size: UInt64
    private(set) var reads: [Range<UInt64>] = []

    init(size: UInt64) { self.size = size }

    static func byte(at offset: UInt64) -> UInt8 { UInt8(offset % 251) }

    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DiskReadError) {
        let (end, overflow) = offset.addingReportingOverflow(UInt64(buffer.count))
        guard !overflow, end <= size else { throw .outOfRange(offset: offset, count: buffer.count, size: size) }
        reads.append(offset ..< end)
        for index in 0 ..< buffer.count { buffer[index] = Self.byte(at: offset + UInt64(index)) }
    }
}

/// The bytes `map` reads at `offset`, or the error it throws.
func read(_ map: RunMap, _ device: PatternDevice, at offset: UInt64, count: Int) throws(VolumeError) -> [UInt8] {
    var bytes = [UInt8](repeating: 0xEE, count: count)
    try bytes.withUnsafeMutableBytes { buffer in
        Result { () throws(VolumeError) in try map.read(at: offset, into: buffer, from: device, volume: "disk0/p1", what: "inode 12") }
    }.get()
    return bytes
}

/// What a run at physical unit `physical` holds for `count` bytes from byte `inRun`, 4-byte units.
func stored(_ physical: UInt64, from inRun: UInt64, count: Int) -> [UInt8] {
    (0 ..< UInt64(count)).map { PatternDevice.byte(at: physical * 4 + inRun + $0) }
}

func zeros(_ count: Int) -> [UInt8] { [UInt8](repeating: 0, count: count) }

struct RunMapTests {
    /// Units 0-1 a hole, 2-3 stored at 10, 4 unwritten, 5-6 a hole, 7-8 stored at 20, then nothing.
    static func sample(_ unmapped: RunMap.Unmapped = .zeros) throws -> RunMap {
        try RunMap([MappedRun(logical: 2, count: 2, physical: 10), MappedRun(logical: 4, count: 1, physical: nil),
                    MappedRun(logical: 7, count: 2, physical: 20)], unitSize: 4, unmapped: unmapped)
    }

    @Test func holesAtStartMiddleAndEndReadAsZeros() throws {
        let map = try Self.sample()
        let device = PatternDevice(size: 1024)
        #expect(try read(map, device, at: 0, count: 8) == zeros(8))
        #expect(try read(map, device, at: 20, count: 8) == zeros(8))
        #expect(try read(map, device, at: 36, count: 12) == zeros(12))
        #expect(try read(map, device, at: 0, count: 48) ==
            zeros(8) + stored(10, from: 0, count: 8) + zeros(12) + stored(20, from: 0, count: 8) + zeros(12))
    }

    @Test func readsCrossingRunsTakeOneDeviceReadPerStoredPiece() throws {
        let map = try Self.sample()
        let device = PatternDevice(size: 1024)
        #expect(try read(map, device, at: 13, count: 18) == stored(10, from: 5, count: 3) + zeros(12) + stored(20, from: 0, count: 3))
        #expect(device.reads == [45 ..< 48, 80 ..< 83])
    }

    @Test func unwrittenRunsReadAsZerosWithoutTouchingTheDevice() throws {
        let map = try RunMap([MappedRun(logical: 0, count: 3, physical: nil)], unitSize: 512, unmapped: .corrupt)
        let device = PatternDevice(size: 0)
        #expect(try read(map, device, at: 100, count: 1000) == zeros(1000))
        #expect(device.reads.isEmpty)
    }

    @Test func unmappedBytesAreCorruptWhenTheFormatMapsEverything() throws {
        let map = try Self.sample(.corrupt)
        let error = try #require(throws: VolumeError.self) { try read(map, PatternDevice(size: 1024), at: 0, count: 4) }
        #expect(error.kind == "corrupt")
        #expect(error.description.contains("disk0/p1") && error.description.contains("inode 12") && error.description.contains("byte 0"),
                "\(error)")
        let past = try #require(throws: VolumeError.self) { try read(map, PatternDevice(size: 1024), at: 32, count: 8) }
        #expect(past.description.contains("byte 36"), "\(past)")
    }

    @Test func aRunOutsideTheDeviceIsCorruptionNamingTheLocation() throws {
        let map = try RunMap([MappedRun(logical: 0, count: 4, physical: 250)], unitSize: 4, unmapped: .zeros)
        let error = try #require(throws: VolumeError.self) { try read(map, PatternDevice(size: 1004), at: 4, count: 8) }
        #expect(error.kind == "corrupt")
        for word in ["disk0/p1", "inode 12", "volume byte 1004", "8 bytes", "outside the volume"] {
            #expect(error.description.contains(word), "'\(word)' in \(error)")
        }
    }

    @Test func deviceFailuresStayDeviceErrors() throws {
        struct Broken: BlockDevice {
            var size: UInt64 { 1 << 20 }
            func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DiskReadError) {
                throw .io(SystemError("pread", path: "/dev/null", errno: 5))
            }
        }
        let map = try RunMap([MappedRun(logical: 0, count: 1, physical: 1)], unitSize: 512, unmapped: .zeros)
        var bytes = [UInt8](repeating: 0, count: 10)
        let error = try #require(throws: VolumeError.self) {
            try bytes.withUnsafeMutableBytes { buffer in
                Result { () throws(VolumeError) in try map.read(at: 0, into: buffer, from: Broken(), volume: "v", what: "inode 1") }
            }.get()
        }
        #expect(error.kind == "device")
    }

    @Test func dataRangesMergeAdjacentStoredRunsAndStopAtTheLimit() throws {
        let map = try RunMap([MappedRun(logical: 0, count: 2, physical: 50), MappedRun(logical: 2, count: 1, physical: 9),
                              MappedRun(logical: 3, count: 1, physical: nil), MappedRun(logical: 4, count: 2, physical: 70),
                              MappedRun(logical: 8, count: 1, physical: 80), MappedRun(logical: 9, count: 4, physical: 90)],
                             unitSize: 4, unmapped: .zeros)
        #expect(map.dataRanges(below: 1000) == [0 ..< 12, 16 ..< 24, 32 ..< 52])
        #expect(map.dataRanges(below: 34) == [0 ..< 12, 16 ..< 24, 32 ..< 34])
        #expect(map.dataRanges(below: 20) == [0 ..< 12, 16 ..< 20])
        #expect(map.dataRanges(below: 0) == [])
    }

    @Test func dataRangesAddedInOrder() {
        var ranges = DataRanges(limit: 100)
        ranges.add(0 ..< 10)
        ranges.add(10 ..< 20)
        ranges.add(30 ..< 40)
        ranges.add(50 ..< 50)
        ranges.add(90 ..< 200)
        ranges.add(150 ..< 160)
        #expect(ranges.ranges == [0 ..< 20, 30 ..< 40, 90 ..< 100])
    }

    @Test func segmentsOfARange() throws {
        let map = try Self.sample()
        #expect(map.segments(from: 0, count: 10) == [
            MappedSegment(physical: nil, count: 2), MappedSegment(physical: 10, count: 2), MappedSegment(physical: nil, count: 1),
            MappedSegment(physical: nil, count: 2), MappedSegment(physical: 20, count: 2), MappedSegment(physical: nil, count: 1),
        ])
        #expect(map.segments(from: 3, count: 5) == [
            MappedSegment(physical: 11, count: 1), MappedSegment(physical: nil, count: 1), MappedSegment(physical: nil, count: 2),
            MappedSegment(physical: 20, count: 1),
        ])
        #expect(map.segments(from: 100, count: 16) == [MappedSegment(physical: nil, count: 16)])
        #expect(map.segments(from: 5, count: 0) == [])
    }

    @Test func deviceOffsets() throws {
        let map = try Self.sample()
        #expect(map.deviceOffset(of: 0) == nil)
        #expect(map.deviceOffset(of: 9) == 41)
        #expect(map.deviceOffset(of: 17) == nil)
        #expect(map.deviceOffset(of: 35) == 87)
        #expect(map.deviceOffset(of: 36) == nil)
    }

    @Test func runSearch() throws {
        let map = try RunMap([MappedRun(logical: 0, count: 2, physical: 1), MappedRun(logical: 5, count: 3, physical: 9)],
                             unitSize: 4096, unmapped: .zeros)
        #expect(map.firstRun(endingAfter: 0) == 0)
        #expect(map.firstRun(endingAfter: 1) == 0)
        #expect(map.firstRun(endingAfter: 2) == 1)
        #expect(map.firstRun(endingAfter: 7) == 1)
        #expect(map.firstRun(endingAfter: 8) == 2)
        #expect(try RunMap([], unitSize: 4096, unmapped: .zeros).firstRun(endingAfter: 8) == 0)
    }

    @Test func badRunsAreRefused() {
        #expect(throws: RunMapError.tooLarge(logical: UInt64.max / 4096, count: 2, unitSize: 4096)) {
            try RunMap([MappedRun(logical: UInt64.max / 4096, count: 2, physical: 0)], unitSize: 4096, unmapped: .zeros)
        }
        #expect(throws: RunMapError.tooLarge(logical: 0, count: 1, unitSize: 4096)) {
            try RunMap([MappedRun(logical: 0, count: 1, physical: UInt64.max / 4096)], unitSize: 4096, unmapped: .zeros)
        }
        #expect(throws: RunMapError.tooLarge(logical: 3, count: UInt64.max, unitSize: 1)) {
            try RunMap([MappedRun(logical: 3, count: UInt64.max, physical: nil)], unitSize: 1, unmapped: .zeros)
        }
        #expect(throws: RunMapError.outOfOrder(logical: 3, expectedFrom: 4)) {
            try RunMap([MappedRun(logical: 2, count: 2, physical: 0), MappedRun(logical: 3, count: 1, physical: 9)], unitSize: 512, unmapped: .zeros)
        }
        #expect(throws: RunMapError.emptyRun(logical: 7)) {
            try RunMap([MappedRun(logical: 7, count: 0, physical: 0)], unitSize: 512, unmapped: .zeros)
        }
        #expect(throws: RunMapError.zeroUnitSize) { try RunMap([], unitSize: 0, unmapped: .zeros) }
        // The largest map that fits: it ends at byte 2^64 - 4096.
        #expect((try? RunMap([MappedRun(logical: 0, count: UInt64.max / 4096, physical: nil)], unitSize: 4096, unmapped: .zeros)) != nil)
    }
}

extension VolumeError {
    var kind: String {
        switch self {
        case .corrupt: "corrupt"
        case .device: "device"
        default: "other"
        }
    }
}
