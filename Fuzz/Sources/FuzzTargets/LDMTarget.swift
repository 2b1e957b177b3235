import BlockDevices
import ByteParsing
import LDM

/// A dynamic disk's LDM metadata. The input is the disk's first 4 KiB (the MBR, the PRIVHEAD
/// in sector 6), then its 1 MiB private region; the region is placed where that PRIVHEAD's
/// config start says (the disk is sparse, so that may be far), the rest of the disk reads as
/// zeros. PRIVHEAD, TOCBLOCKs, VMDB and VBLKs are parsed, the disk group assembled, and each
/// volume read at both ends.
enum LDMTarget {
    static let headSize = 4096
    /// Disks up to 1 TiB: a config start further out places the region at the head's end.
    static let largestDisk: UInt64 = 1 << 40

    static func run(_ input: [UInt8]) {
        let head = Array(input.prefix(headSize))
        let region = Array(input.dropFirst(headSize))
        var regionStart = UInt64(headSize)
        if head.count == headSize, let header = try? PrivateHeader(ByteReader(Array(head[3072 ..< 3584]), origin: 3072)) {
            let (start, overflow) = header.configStart.multipliedReportingOverflow(by: PrivateHeader.sectorSize)
            if !overflow, start >= UInt64(headSize), start < largestDisk - UInt64(region.count) { regionStart = start }
        }
        let size = max(regionStart + UInt64(region.count), regionStart + 512)
        let disk = SparseDevice(size: size, pieces: [(0, head), (regionStart, region)])
        let assembly = DiskGroupAssembly.assemble([.init(location: "/fuzz", device: disk, headerOffsets: [3072, size - 512])])
        for volume in assembly.groups.flatMap(\.volumes) where volume.device.size > 0 {
            _ = try? volume.device.read(at: 0, count: Int(min(volume.device.size, 4096)))
            _ = try? volume.device.read(at: volume.device.size - 1, count: 1)
        }
    }
}

/// Zeros but for pieces of bytes held in memory, so that a disk's far end costs nothing.
struct SparseDevice: BlockDevice {
    let size: UInt64
    let pieces: [(offset: UInt64, bytes: [UInt8])]

    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DiskReadError) {
        try checkRange(offset, buffer.count)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        let end = offset + UInt64(buffer.count)
        for piece in pieces {
            let start = max(offset, piece.offset)
            let stop = min(end, piece.offset + UInt64(piece.bytes.count))
            guard start < stop else { continue }
            piece.bytes.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(rebasing: buffer[Int(start - offset) ..< Int(stop - offset)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[Int(start - piece.offset) ..< Int(stop - piece.offset)]))
            }
        }
    }
}
