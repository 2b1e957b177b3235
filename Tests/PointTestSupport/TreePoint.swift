import Ext4Volume
import Foundation
import KeyManagement
import PointNamespace
import RecoveryPoint
import TestSupport
import VolumeModel

/// A point of a GPT disk made the way `rpfs create` makes one: partition 1 holds an ext4 that
/// `mke2fs -d` built from a source tree (the truth tests compare with), partition 2 a second,
/// small ext4, partition 3 nothing a reader knows.
public final class TreePoint: @unchecked Sendable {
    public static let chunkSize = 64 << 10
    /// Where partition 1 starts on the disk.
    public static let firstPartitionOffset: UInt64 = 1 << 20
    /// Entries in `many/`, enough for several readdir pages.
    public static let manyEntries = 300
    public let directory: TemporaryDirectory
    public let source: String
    public let disk: String
    public let store: DirectoryStore
    public let keyring: KeyringDirectory
    public let id: PointID

    public init() throws {
        directory = try TemporaryDirectory("rpfs-tree")
        source = directory.file("src")
        try Self.buildTree(at: source)
        let other = directory.file("other")
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        try "second volume\n".write(toFile: "\(other)/hello", atomically: true, encoding: .utf8)

        let first = directory.file("first.img")
        try Shell.check("mke2fs", ["-q", "-F", "-t", "ext4", "-b", "4096", "-I", "256", "-d", source, first, "32M"])
        let second = directory.file("second.img")
        try Shell.check("mke2fs", ["-q", "-F", "-t", "ext4", "-b", "4096", "-d", other, second, "8M"])
        disk = try directory.image("disk.img", size: 48 << 20)
        try Shell.check("sgdisk", ["-o", "-n1:2048:+32M", "-t1:8300", "-n2:0:+8M", "-t2:8300", "-n3:0:+4M", "-t3:8300", disk])
        for (image, mib) in [(first, 1), (second, 33)] {
            try Shell.check("dd", ["if=\(image)", "of=\(disk)", "bs=1M", "seek=\(mib)", "conv=notrunc", "status=none"])
        }

        keyring = try TestKeys.keyring(in: directory)
        store = try DirectoryStore.openOrCreate(path: directory.file("store"))
        var request = PointRequest(images: [disk], kek: try KEKReference(parsing: "backup"))
        request.chunkSizeLog2 = UInt8(Self.chunkSize.trailingZeroBitCount)
        id = try PointWriter.create(request, store: store, provider: keyring).0
    }

    /// The point's tree, opened as `rpfs` opens it (Sources/rpfs/VolumeReaders.swift), for
    /// the volume kinds this point holds.
    public func namespace() throws -> PointNamespace {
        try PointNamespace.open(id, in: store, provider: keyring) { volume throws(VolumeError) in
            try Ext4Volume.open(volume.device, name: volume.path)
        }
    }

    /// Where the disk's chunks are stored.
    public func chunks() throws -> StoredChunks {
        try StoredChunks(store: directory.file("store"), keyring: directory.file("keys"), point: id.description)
    }

    /// The stored object of the chunk holding disk byte `offset`.
    public func chunkFile(holding offset: UInt64) throws -> String {
        try chunks().object(holding: offset)
    }

    /// The VM tree, with a small file, a second attribute and a directory of many entries.
    private static func buildTree(at source: String) throws {
        try VMSourceTree.build(at: source)
        var random = SeededBytes(seed: 7)
        try Data(random.bytes(100)).write(to: URL(fileURLWithPath: "\(source)/srv/small.bin"))
        try Shell.check("setfattr", ["-n", "user.empty", "\(source)/etc/hostname"])
        try FileManager.default.createDirectory(atPath: "\(source)/many", withIntermediateDirectories: true)
        // Names of many lengths, so that records of every padding meet page ends.
        for index in 0 ..< manyEntries {
            try Data().write(to: URL(fileURLWithPath: "\(source)/many/\(index)-" + String(repeating: "n", count: index % 40)))
        }
    }
}
