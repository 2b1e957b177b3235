import Foundation
import KeyManagement
import PointNamespace
import RecoveryPoint
import TestSupport
import VolumeModel
import Ext4Volume

/// Two disks whose volume group lvm2 made: disk0 is GPT with a small ext4 in partition 1 and
/// a PV in partition 2; disk1 is one unpartitioned PV. The group holds `root` (linear, an
/// ext4 of the VM source tree, spanning both PVs), `data` (striped over both, an ext4) and
/// `solo` (on the first PV only, an ext4). Points are made of both disks, and of disk0 alone.
final class LVMPoint: @unchecked Sendable {
    let directory: TemporaryDirectory
    let source: String
    let disks: [String]
    let group: String
    let groupUUID: String
    /// PV UUIDs, as `pvs` reports them: disk0's partition 2, then disk1.
    let physicalUUIDs: [String]
    /// lvm2's report of the LVs: name, segment type, size.
    let reportedVolumes: [(name: String, type: String, size: UInt64)]
    let store: DirectoryStore
    let keyring: KeyringDirectory
    let both: PointID
    let firstOnly: PointID

    static let partitionOffset: UInt64 = 9 << 20
    static let partitionSize: UInt64 = 40 << 20

    init() throws {
        directory = try TemporaryDirectory("rpfs-lvm-point")
        let directory = directory
        source = directory.file("src")
        try VMSourceTree.build(at: source)
        let small = directory.file("small")
        try FileManager.default.createDirectory(atPath: small, withIntermediateDirectories: true)
        try "on the data LV\n".write(toFile: "\(small)/hello", atomically: true, encoding: .utf8)

        let disk0 = try directory.image("disk0.img", size: 56 << 20)
        try Shell.check("sgdisk", ["-o", "-n1:2048:+8M", "-t1:8300", "-n2:0:+40M", "-t2:8e00", disk0])
        let part1 = directory.file("part1.img")
        try Shell.check("mke2fs", ["-q", "-F", "-t", "ext4", "-d", small, part1, "8M"])
        try Shell.check("dd", ["if=\(part1)", "of=\(disk0)", "bs=1M", "seek=1", "conv=notrunc", "status=none"])
        let disk1 = try directory.image("disk1.img", size: 40 << 20)
        disks = [disk0, disk1]

        let builder = try LVMBuilder(name: LVMBuilder.uniqueName("rpfsns"),
                                     pvs: [(disk0, Self.partitionOffset, Self.partitionSize), (disk1, 0, 40 << 20)])
        group = builder.name
        try builder.createVolume("data", size: "8M", ["-i", "2", "-I", "64k"])
        try builder.createVolume("solo", size: "4M", on: [0])
        try builder.createVolume("root", size: "40M")
        for (volume, tree) in [("root", source), ("data", small), ("solo", small)] {
            let size = try require(try builder.volumeReport().first { $0.name == volume }, volume).size
            let image = directory.file("\(volume).img")
            try Shell.check("mke2fs", ["-q", "-F", "-t", "ext4", "-b", "4096", "-I", "256", "-d", tree, image, "\(size / 1024)k"])
            try builder.write([UInt8](try Data(contentsOf: URL(fileURLWithPath: image))), to: volume)
        }
        groupUUID = try builder.uuid
        let report = try builder.physicalReport()
        physicalUUIDs = builder.physicalVolumes.map { pv in report.first { $0.device == pv.loop }?.uuid ?? "" }
        reportedVolumes = try builder.volumeReport()
        builder.detach()

        keyring = try TestKeys.keyring(in: directory)
        store = try DirectoryStore.openOrCreate(path: directory.file("store"))
        both = try Self.point([disk0, disk1], store: store, keyring: keyring)
        firstOnly = try Self.point([disk0], store: store, keyring: keyring)
    }

    private static func point(_ images: [String], store: DirectoryStore, keyring: KeyringDirectory) throws -> PointID {
        var request = PointRequest(images: images, kek: try KEKReference(parsing: "backup"))
        request.chunkSizeLog2 = 16
        return try PointWriter.create(request, store: store, provider: keyring).0
    }

    func namespace(_ id: PointID) throws -> PointNamespace {
        try PointNamespace.open(id, in: store, provider: keyring) { volume throws(VolumeError) in
            try Ext4Volume.open(volume.device, name: volume.path)
        }
    }
}

/// Sets `#require` free: a failed requirement in a fixture's init is a thrown error.
private func require<T>(_ value: T?, _ what: String = "value") throws -> T {
    guard let value else { throw TestFailure("missing \(what)") }
    return value
}
