import PartitionTable
import Testing
import VirtualDisk

@Suite struct VolumeSliceTests {
    let parent = MemoryDisk((0 ..< 4096).map { UInt8(truncatingIfNeeded: $0) })

    @Test func readsInsideTheWindow() throws {
        let slice = try VolumeSlice(parent, offset: 1000, size: 100)
        #expect(slice.size == 100)
        #expect(try slice.read(at: 0, count: 3) == [232, 233, 234])
        #expect(try slice.read(at: 98, count: 2) == [74, 75])
    }

    @Test func refusesReadsOutsideTheWindow() throws {
        let slice = try VolumeSlice(parent, offset: 1000, size: 100)
        #expect(throws: DiskReadError.self) { try slice.read(at: 99, count: 2) }
        #expect(throws: DiskReadError.self) { try slice.read(at: 100, count: 1) }
        #expect(throws: DiskReadError.self) { try slice.read(at: UInt64.max, count: 2) }
        #expect(try slice.read(at: 100, count: 0) == [])
    }

    @Test func refusesAWindowOutsideTheParent() {
        #expect(throws: PartitionTableError.self) { try VolumeSlice(parent, offset: 4000, size: 97) }
        #expect(throws: PartitionTableError.self) { try VolumeSlice(parent, offset: UInt64.max, size: 2) }
        #expect((try? VolumeSlice(parent, offset: 0, size: 4096)) != nil)
    }
}
