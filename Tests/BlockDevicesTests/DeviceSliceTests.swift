import BlockDevices
import Testing

/// A device in memory whose byte i is i mod 256 (unless given), counting its reads.
final class MemoryDevice: BlockDevice, @unchecked Sendable {
    let bytes: [UInt8]
    var size: UInt64 { UInt64(bytes.count) }
    private(set) var reads: [(offset: UInt64, count: Int)] = []

    init(_ bytes: [UInt8]) { self.bytes = bytes }
    init(size: Int, seed: Int = 0) { bytes = (0 ..< size).map { UInt8(truncatingIfNeeded: $0 + seed) } }

    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DiskReadError) {
        try checkRange(offset, buffer.count)
        reads.append((offset, buffer.count))
        let start = Int(offset)
        bytes[start ..< start + buffer.count].withUnsafeBytes { buffer.copyMemory(from: $0) }
    }
}

@Suite struct DeviceSliceTests {
    let parent = MemoryDevice(size: 4096)

    @Test func readsInsideTheWindow() throws {
        let slice = try DeviceSlice(parent, offset: 1000, size: 100)
        #expect(slice.size == 100)
        #expect(try slice.read(at: 0, count: 3) == [232, 233, 234])
        #expect(try slice.read(at: 98, count: 2) == [74, 75])
    }

    @Test func refusesReadsOutsideTheWindow() throws {
        let slice = try DeviceSlice(parent, offset: 1000, size: 100)
        #expect(throws: DiskReadError.self) { try slice.read(at: 99, count: 2) }
        #expect(throws: DiskReadError.self) { try slice.read(at: 100, count: 1) }
        #expect(throws: DiskReadError.self) { try slice.read(at: UInt64.max, count: 2) }
        #expect(try slice.read(at: 100, count: 0) == [])
        // A refused read never reaches the parent: a neighbour's bytes stay out of reach.
        #expect(parent.reads.allSatisfy { $0.offset >= 1000 && $0.offset + UInt64($0.count) <= 1100 })
    }

    @Test func refusesAWindowOutsideTheParent() {
        #expect(throws: DiskReadError.self) { try DeviceSlice(parent, offset: 4000, size: 97) }
        #expect(throws: DiskReadError.self) { try DeviceSlice(parent, offset: UInt64.max, size: 2) }
        #expect((try? DeviceSlice(parent, offset: 0, size: 4096)) != nil)
    }

    @Test func slicesOfSlicesStayInsideBoth() throws {
        let outer = try DeviceSlice(parent, offset: 1024, size: 2048)
        let inner = try DeviceSlice(outer, offset: 512, size: 16)
        #expect(try inner.read(at: 0, count: 16) == Array(parent.bytes[1536 ..< 1552]))
        #expect(throws: DiskReadError.self) { try DeviceSlice(outer, offset: 2040, size: 16) }
    }
}

@Suite struct ConcatenatedDeviceTests {
    @Test func readsAcrossEveryBoundary() throws {
        let parts = [MemoryDevice(size: 1000, seed: 0), MemoryDevice(size: 1, seed: 77), MemoryDevice(size: 0), MemoryDevice(size: 3000, seed: 9)]
        let whole = parts.flatMap(\.bytes)
        let device = try ConcatenatedDevice(parts)
        #expect(device.size == 4001)
        #expect(try device.read(at: 0, count: whole.count) == whole)
        // Every window of a few sizes, at every offset near the boundaries.
        for start in [0, 1, 998, 999, 1000, 1001, 1002, 3999, 4000] {
            for count in [0, 1, 2, 3, 1500] where start + count <= whole.count {
                #expect(try device.read(at: UInt64(start), count: count) == Array(whole[start ..< start + count]), "\(start)+\(count)")
            }
        }
    }

    @Test func refusesReadsPastTheEnd() throws {
        let device = try ConcatenatedDevice([MemoryDevice(size: 10), MemoryDevice(size: 10)])
        #expect(throws: DiskReadError.self) { try device.read(at: 15, count: 6) }
        #expect(throws: DiskReadError.self) { try device.read(at: UInt64.max, count: 1) }
        #expect(try device.read(at: 20, count: 0) == [])
    }

    @Test func anEmptyListIsAnEmptyDevice() throws {
        let device = try ConcatenatedDevice([])
        #expect(device.size == 0)
        #expect(throws: DiskReadError.self) { try device.read(at: 0, count: 1) }
    }

    @Test func sizesThatOverflowAreRefused() throws {
        let huge = try DeviceSlice(HugeDevice(), offset: 0, size: UInt64.max / 2 + 1)
        #expect(throws: DiskReadError.self) { try ConcatenatedDevice([huge, huge]) }
    }

    /// A device of 2^64-1 bytes, never read.
    struct HugeDevice: BlockDevice {
        var size: UInt64 { .max }
        func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DiskReadError) {
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
        }
    }
}
