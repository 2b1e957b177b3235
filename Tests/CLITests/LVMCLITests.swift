import Foundation
import TestSupport
import Testing

/// Points of disks whose volume groups lvm2 made, through the rpfs binary: `inspect` is
/// checked against lvm2's own reports, files against what was put into the LVs.
@Suite struct LVMCLITests {
    /// `inspect --json`'s volume groups.
    private func groups(_ fixture: CLIFixture, _ id: String) throws -> [[String: Any]] {
        let result = try fixture.run(["inspect", id, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        return try #require(report["volume_groups"] as? [[String: Any]])
    }

    private func copy(_ fixture: CLIFixture, _ source: String) throws -> [UInt8] {
        let destination = fixture.directory.file("out-\(UUID().uuidString)")
        try fixture.expectSuccess(["cp", source, destination])
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: destination)))
    }

    @Test func inspectMatchesLVMsReportAndFilesCopyOutOfExt4AndNTFSVolumes() throws {
        let fixture = try CLIFixture()
        let directory = fixture.directory
        let source = directory.file("src")
        try VMSourceTree.build(at: source)
        let disks = try ["d0.img", "d1.img"].map { try directory.image($0, size: 64 << 20) }
        let builder = try LVMBuilder(name: LVMBuilder.uniqueName("rpfscli"), pvs: disks.map { ($0, 0, 64 << 20) })
        try builder.createVolume("win", size: "16M", ["-i", "2", "-I", "128k"])
        try builder.createVolume("root", size: "72M")
        let root = directory.file("root.img")
        try Shell.check("mke2fs", ["-q", "-F", "-t", "ext4", "-d", source, root, "72M"])
        try builder.write([UInt8](try Data(contentsOf: URL(fileURLWithPath: root))), to: "root")
        let ntfs = try NTFSImageBuilder.make(in: directory, size: 16 << 20, cluster: 4096,
                                             fill: "printf 'from NTFS in a striped LV\\n' > \"$1/notes.txt\"")
        try builder.write([UInt8](try Data(contentsOf: URL(fileURLWithPath: ntfs))), to: "win")
        let vgUUID = try builder.uuid
        let extentSize = try builder.extentSize
        let pvs = try builder.physicalReport()
        let volumes = try builder.volumeReport()
        let segments = try Dictionary(uniqueKeysWithValues: volumes.map { ($0.name, try builder.segments($0.name)) })
        let loops = builder.physicalVolumes.map(\.loop)
        builder.detach()

        let id = String(try fixture.expectSuccess(["create", "--kek", "backup", "--chunk-size", "64K"] + disks.flatMap { ["--disk", $0] })
            .split(separator: "\n").last ?? "")
        let group = try #require(try groups(fixture, id).first)
        #expect(group["name"] as? String == builder.name)
        #expect(group["uuid"] as? String == vgUUID)
        #expect(group["path"] as? String == "/lvm/\(builder.name)")
        #expect(group["extent_size"] as? UInt64 == extentSize)
        let uuidOfLoop = Dictionary(uniqueKeysWithValues: pvs.map { ($0.device, $0.uuid) })
        let members = try #require(group["physical_volumes"] as? [[String: Any]])
        #expect(members.map { $0["uuid"] as? String } == loops.map { uuidOfLoop[$0] })
        #expect(members.map { $0["path"] as? String } == ["/disk0/volume", "/disk1/volume"])
        let logical = try #require(group["logical_volumes"] as? [[String: Any]])
        #expect(logical.compactMap { $0["name"] as? String }.sorted() == volumes.map(\.name).sorted())
        for volume in logical {
            let name = try #require(volume["name"] as? String)
            let reported = try #require(volumes.first { $0.name == name })
            #expect(volume["type"] as? String == reported.type)
            #expect(volume["size"] as? UInt64 == reported.size)
            let shown = try #require(volume["segments"] as? [[String: Any]])
            let expected = try #require(segments[name])
            #expect(shown.map { $0["start_extent"] as? UInt64 } == expected.map(\.startExtent))
            #expect(shown.map { $0["extents"] as? UInt64 } == expected.map(\.extentCount))
            #expect(shown.map { $0["type"] as? String } == expected.map(\.type))
            #expect(shown.map { $0["stripe_size"] as? UInt64 } == expected.map { $0.areas.count > 1 ? $0.stripeSize : 0 })
            #expect(shown.map { $0["areas"] as? [String] } == expected.map { $0.areas.map { "\(uuidOfLoop[$0.device] ?? ""):\($0.extent)" } })
            let probed = try #require(volume["volume"] as? [String: Any])
            #expect(probed["path"] as? String == "/lvm/\(builder.name)/\(name)")
            #expect(probed["kind"] as? String == (name == "root" ? "ext4" : "ntfs"))
            #expect(probed["state"] as? String == "readable")
        }
        #expect(try fixture.expectSuccess(["inspect", id]).contains("volume group \(builder.name)"))

        let point = "\(id):/lvm/\(builder.name)"
        #expect(try copy(fixture, "\(point)/root/home/alice/Documents/café ☕.txt") == [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(source)/home/alice/Documents/café ☕.txt"))))
        #expect(try copy(fixture, "\(point)/root/srv/data/blob.bin") == [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(source)/srv/data/blob.bin"))))
        #expect(try copy(fixture, "\(point)/win/notes.txt") == Array("from NTFS in a striped LV\n".utf8))
        let listing = try fixture.run(["ls", "\(id):/disk1/volume"])
        #expect(listing.stderr.contains("its logical volumes are under /lvm/\(builder.name)"), "\(listing.stderr)")

        // The same tree under a mount: the kernel walks /lvm like the disks.
        let mountPoint = directory.file("mnt")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        try fixture.expectSuccess(["mount", id, mountPoint])
        defer { _ = try? fixture.run(["unmount", mountPoint]) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: mountPoint).sorted() == ["disk0", "disk1", "lvm"])
        let mounted = "\(mountPoint)/lvm/\(builder.name)"
        let diff = try Shell.run("diff", ["-r", "--no-dereference", source, "\(mounted)/root"])
        let unexpected = diff.stdout.split(separator: "\n").filter { !$0.hasPrefix("Only in \(mounted)/root: lost+found") && !$0.contains("pipe") }
        #expect(unexpected.isEmpty, "\(unexpected)")
        #expect(try String(contentsOfFile: "\(mounted)/win/notes.txt", encoding: .utf8) == "from NTFS in a striped LV\n")
        #expect(lstatOf("\(mountPoint)/lvm")?.st_ino == 2)
        #expect(lstatOf(mounted)?.st_ino == 0x1_0000)
    }

    @Test func twoGroupsOfOneNameBothGetADirectory() throws {
        let fixture = try CLIFixture()
        let directory = fixture.directory
        let name = LVMBuilder.uniqueName("rpfsclone")
        var uuids: [String] = []
        var disks: [String] = []
        for which in ["first", "second"] {
            let disk = try directory.image("\(which).img", size: 16 << 20)
            // Separate builders: each lvm2 run sees only its own disk, as on two cloned VMs.
            let builder = try LVMBuilder(name: name, pvs: [(disk, 0, 16 << 20)])
            try builder.createVolume("data", size: "8M")
            let tree = directory.file("tree-\(which)")
            try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
            try "\(which)\n".write(toFile: "\(tree)/which", atomically: true, encoding: .utf8)
            let image = directory.file("\(which)-fs.img")
            try Shell.check("mke2fs", ["-q", "-F", "-t", "ext4", "-d", tree, image, "8M"])
            try builder.write([UInt8](try Data(contentsOf: URL(fileURLWithPath: image))), to: "data")
            uuids.append(try builder.uuid)
            builder.detach()
            disks.append(disk)
        }
        let id = String(try fixture.expectSuccess(["create", "--kek", "backup", "--chunk-size", "64K"] + disks.flatMap { ["--disk", $0] })
            .split(separator: "\n").last ?? "")
        let shown = try groups(fixture, id)
        let second = "\(name)-\(uuids[1].prefix(6))"
        #expect(shown.map { $0["path"] as? String } == ["/lvm/\(name)", "/lvm/\(second)"])
        #expect(shown.map { $0["uuid"] as? String } == uuids)
        #expect(try fixture.expectSuccess(["ls", "\(id):/lvm"]).split(separator: "\n").map(String.init) == [name, second])
        #expect(try copy(fixture, "\(id):/lvm/\(name)/data/which") == Array("first\n".utf8))
        #expect(try copy(fixture, "\(id):/lvm/\(second)/data/which") == Array("second\n".utf8))
    }

    @Test func aLUKSLogicalVolumeRefusesThePointLikeALUKSPartition() throws {
        let fixture = try CLIFixture()
        let directory = fixture.directory
        let disk = try directory.image("disk.img", size: 64 << 20)
        let builder = try LVMBuilder(name: LVMBuilder.uniqueName("rpfsluks"), pvs: [(disk, 0, 64 << 20)])
        try builder.createVolume("root", size: "8M")
        try builder.createVolume("secret", size: "20M")
        let tree = directory.file("tree")
        try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
        try "plain\n".write(toFile: "\(tree)/hello", atomically: true, encoding: .utf8)
        let root = directory.file("root.img")
        try Shell.check("mke2fs", ["-q", "-F", "-t", "ext4", "-d", tree, root, "8M"])
        try builder.write([UInt8](try Data(contentsOf: URL(fileURLWithPath: root))), to: "root")
        let luks = try directory.image("luks.img", size: 20 << 20)
        let keyFile = try directory.write("keyfile", Array("correct horse".utf8))
        try Shell.check("cryptsetup", ["luksFormat", "--batch-mode", "--type", "luks2", "--pbkdf", "pbkdf2",
                                       "--pbkdf-force-iterations", "1000", "--key-file", keyFile, luks])
        try builder.write([UInt8](try Data(contentsOf: URL(fileURLWithPath: luks))), to: "secret")
        builder.detach()

        let id = String(try fixture.expectSuccess(["create", "--kek", "backup", "--chunk-size", "64K", "--disk", disk]).split(separator: "\n").last ?? "")
        let refused = try fixture.run(["ls", id])
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("/lvm/\(builder.name)/secret: LUKS2"), "\(refused.stderr)")
        #expect(refused.stdout.isEmpty)
        let skipped = try fixture.run(["ls", "\(id):/lvm/\(builder.name)/root", "--skip-encrypted-volumes"])
        #expect(skipped.status == 0, "\(skipped.stderr)")
        #expect(skipped.stdout.split(separator: "\n").contains("hello"))
    }
}
