import BlockDevices
import Foundation
import PointNamespace
import PointTestSupport
import TestSupport
import Testing
import VolumeModel

/// Damage under the tree's structure keeps its name: a volume whose first chunk is damaged
/// is not an "unknown" volume, and a disk whose table's chunk is damaged is not empty.
@Suite struct NamespaceDamageTests {
    private func damage(_ point: TreePoint, diskOffset: UInt64) throws {
        let chunk = try point.chunkFile(holding: diskOffset)
        var object = try Data(contentsOf: URL(fileURLWithPath: chunk))
        object[object.count / 2] ^= 0x01
        try object.write(to: URL(fileURLWithPath: chunk))
    }

    private func expectDamage(_ body: () throws -> Void) {
        do {
            try body()
            Issue.record("no error")
        } catch let .device(_, error) as NamespaceError {
            #expect(error.isDamage, "\(error)")
            #expect("\(error)".contains("integrity error"), "\(error)")
        } catch {
            Issue.record("not a device error: \(error)")
        }
    }

    @Test func aVolumeWhoseSuperblockChunkIsDamagedSaysSo() throws {
        let point = try TreePoint()
        // The ext4 superblock, 1 KiB into partition 1.
        try damage(point, diskOffset: TreePoint.firstPartitionOffset + 1024)
        let namespace = try point.namespace()
        expectDamage { _ = try namespace.resolve("/disk0/part1/srv") }
        // The other volumes read as before.
        #expect(try namespace.list(try namespace.resolve("/disk0/part2"), path: "/disk0/part2").contains { $0.name.description == "hello" })
    }

    /// The primary GPT's chunk damaged alone: the backup at the disk's end gives every
    /// partition, and the point's survey says which copy it used.
    @Test func aDamagedPrimaryGPTIsReadFromItsBackup() throws {
        let point = try TreePoint()
        try damage(point, diskOffset: 0)
        let namespace = try point.namespace()
        let volumes = try namespace.list(try namespace.resolve("/disk0"), path: "/disk0").map(\.name.description)
        #expect(volumes == ["part1", "part2", "part3"])
        // The one note frontends print says which copy was used.
        #expect(namespace.notes.count == 1)
        #expect(namespace.notes.first?.hasPrefix("/disk0: the first sectors cannot be read (integrity error") == true, "\(namespace.notes)")
        #expect(namespace.notes.first?.contains("using the backup header at LBA") == true, "\(namespace.notes)")
        let path = "/disk0/part1/srv/small.bin"
        let node = try namespace.resolve(path)
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = try bytes.withUnsafeMutableBytes { buffer in
            try namespace.withVolume(node, path: path) { volume, inner throws(VolumeError) in try volume.read(inner, at: 0, into: buffer) }
        }
        #expect(Array(bytes.prefix(count)) == Array(try Data(contentsOf: URL(fileURLWithPath: "\(point.source)/srv/small.bin"))))
    }

    /// Both copies of the GPT damaged: the disk says why instead of looking empty.
    @Test func aDiskWhoseTableCopiesAreBothDamagedIsNotEmpty() throws {
        let point = try TreePoint()
        try damage(point, diskOffset: 0)
        let size = try FileManager.default.attributesOfItem(atPath: point.disk)[.size] as? UInt64 ?? 0
        try damage(point, diskOffset: size - 512)
        let namespace = try point.namespace()
        expectDamage { _ = try namespace.list(try namespace.resolve("/disk0"), path: "/disk0") }
        expectDamage { _ = try namespace.resolve("/disk0/part1") }
    }
}
