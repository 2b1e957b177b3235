import BlockDevices
import Foundation
import LDM
import PartitionTable
import Testing
import TestSupport

/// Dynamic disks made by `LDMImageBuilder`, each volume filled with its own random bytes.
struct LDMDisks {
    let directory: TemporaryDirectory
    let builder: LDMImageBuilder
    /// What each volume was filled with.
    let contents: [String: [UInt8]]

    /// Three 64 MiB disks: a simple, a spanned, a striped, a mirrored and a RAID-5 volume.
    static func make(_ scheme: LDMImageBuilder.Scheme = .mbr) throws -> LDMDisks {
        let directory = try TemporaryDirectory("rpfs-ldm")
        let builder = try LDMImageBuilder(in: directory, sizes: [64 << 20, 64 << 20, 64 << 20], scheme: scheme)
        builder.addEveryLayout(on: [0, 1, 2], size: 4096, chunk: 128)
        try builder.writeMetadata()
        var generator = SystemRandomNumberGenerator()
        var contents: [String: [UInt8]] = [:]
        for volume in builder.volumes {
            let words = (0 ..< Int(volume.size) * 512 / 8).map { _ in generator.next() as UInt64 }
            let bytes = words.withUnsafeBytes { [UInt8]($0) }
            try builder.fill(volume.name, with: bytes)
            contents[volume.name] = bytes
        }
        return LDMDisks(directory: directory, builder: builder, contents: contents)
    }

    /// The disks at `indices` as candidates.
    func candidates(_ indices: [Int]? = nil) throws -> [DiskGroupAssembly.Candidate] {
        try (indices ?? Array(builder.disks.indices)).map { index in try dynamicDisk(builder.disks[index].path, location: "/disk\(index)") }
    }
}

/// A disk image as a candidate, as the point's inventory makes one: on MBR the PRIVHEAD at
/// sector 6, or else in the disk's last sector; on GPT in the last sector of the LDM metadata
/// partition.
func dynamicDisk(_ path: String, location: String) throws -> DiskGroupAssembly.Candidate {
    let device = try FileBlockDevice(path: path)
    let table = try PartitionTable.read(device)
    if table.scheme == .mbr {
        return DiskGroupAssembly.Candidate(location: location, device: device, headerOffsets: [6 * 512, device.size - 512])
    }
    let metadata = try #require(table.partitions.first { $0.type == .gpt(PartitionType.ldmMetadataGUID) })
    return DiskGroupAssembly.Candidate(location: location, device: device, headerOffsets: [metadata.end - 512])
}
