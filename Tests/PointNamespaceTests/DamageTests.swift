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

    @Test func aDiskWhoseTableChunkIsDamagedIsNotEmpty() throws {
        let point = try TreePoint()
        try damage(point, diskOffset: 0)
        let namespace = try point.namespace()
        expectDamage { _ = try namespace.list(try namespace.resolve("/disk0"), path: "/disk0") }
        expectDamage { _ = try namespace.resolve("/disk0/part1") }
    }
}
