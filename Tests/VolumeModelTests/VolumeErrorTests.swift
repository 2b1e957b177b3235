import BlockDevices
import POSIXFiles
import Testing
import VolumeModel

struct VolumeErrorTests {
    @Test func corruptionReadsAsVolumeStructureLocationProblem() {
        let located = VolumeError.corrupt(volume: "disk0/p2", structure: "MFT record 12", at: 49152, problem: "attribute length 0")
        #expect(located.description == "corrupt volume: disk0/p2: MFT record 12 at volume byte 49152: attribute length 0")
        let unlocated = VolumeError.corrupt(volume: "disk0/p1", structure: "inode 345", problem: "is not in use (mode 0)")
        #expect(unlocated.description == "corrupt volume: disk0/p1: inode 345: is not in use (mode 0)")
    }

    @Test func aFailedReadNamesWhereAndWhat() {
        let read = VolumeRead(volume: "disk0/p1", offset: 8192, count: 4096, purpose: "inode 12")
        let outside = DiskReadError.outOfRange(offset: 8192, count: 4096, size: 10000)
        let corrupt = read.failure(outside)
        #expect(corrupt.description.hasPrefix("corrupt volume: disk0/p1: inode 12 at volume byte 8192: 4096 bytes lie outside the volume"),
                "\(corrupt)")
        let device = VolumeError.device(.io(SystemError("pread", path: "/store/chunk", errno: 5)), read)
        #expect(device.description.hasPrefix("disk0/p1: inode 12: reading 4096 bytes at volume byte 8192: "), "\(device)")
        #expect(device.kind == "device")
    }
}
