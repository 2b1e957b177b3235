import Foundation
import TestSupport
import Testing

/// Points of Windows dynamic disks (made by `LDMImageBuilder`, read back by ldmtool), through
/// the rpfs binary: `inspect` is checked against ldmtool, files in NTFS volumes that mkntfs
/// and ntfs-3g made against their sources.
@Suite struct LDMCLITests {
    private func diskGroups(_ fixture: CLIFixture, _ id: String) throws -> [[String: Any]] {
        let result = try fixture.run(["inspect", id, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        return try #require(report["disk_groups"] as? [[String: Any]])
    }

    private func copy(_ fixture: CLIFixture, _ source: String) throws -> [UInt8] {
        let destination = fixture.directory.file("out-\(UUID().uuidString)")
        try fixture.expectSuccess(["cp", source, destination])
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: destination)))
    }

    private func create(_ fixture: CLIFixture, _ disks: [String]) throws -> String {
        String(try fixture.expectSuccess(["create", "--kek", "backup", "--chunk-size", "64K"] + disks.flatMap { ["--disk", $0] })
            .split(separator: "\n").last ?? "")
    }

    @Test func inspectMatchesLDMToolAndFilesCopyOutOfEveryLayout() throws {
        let fixture = try CLIFixture()
        let directory = fixture.directory
        let builder = try LDMImageBuilder(in: directory, sizes: [64 << 20, 64 << 20, 64 << 20])
        builder.addEveryLayout(on: [0, 1, 2], size: 8192, chunk: 128)
        try builder.writeMetadata()
        let blob = directory.file("blob.bin")
        try Data((0 ..< 300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }).write(to: URL(fileURLWithPath: blob))
        for volume in builder.volumes {
            let image = try NTFSImageBuilder.make(in: directory, name: "\(volume.name).img", size: volume.size * 512, cluster: 4096,
                                                  fill: "printf 'in \(volume.name)\\n' > \"$1/notes.txt\"; cp '\(blob)' \"$1/blob.bin\"")
            try builder.fill(volume.name, with: [UInt8](try Data(contentsOf: URL(fileURLWithPath: image))))
        }
        let disks = builder.disks.map(\.path)
        let tool = try LDMToolReport.read(disks)
        let id = try create(fixture, disks)

        let group = try #require(try diskGroups(fixture, id).first)
        #expect(group["name"] as? String == tool.groupName)
        #expect(group["guid"] as? String == tool.groupGUID)
        let members = try #require(group["disks"] as? [[String: Any]])
        #expect(members.map { $0["name"] as? String } == tool.disks.map(\.name))
        #expect(members.map { $0["guid"] as? String } == tool.disks.map(\.guid))
        #expect(members.map { $0["path"] as? String } == ["/disk0", "/disk1", "/disk2"])
        let volumes = try #require(group["volumes"] as? [[String: Any]])
        // libldm lists records that span VBLKs last; the order is not what is checked.
        let expectedVolumes = tool.volumes.sorted { $0.name < $1.name }
        let shownVolumes = volumes.sorted { ($0["name"] as? String ?? "") < ($1["name"] as? String ?? "") }
        #expect(shownVolumes.map { $0["name"] as? String } == expectedVolumes.map(\.name))
        for (shown, expected) in zip(shownVolumes, expectedVolumes) {
            #expect(shown["guid"] as? String == expected.guid)
            #expect(shown["type"] as? String == expected.type)
            #expect(shown["size"] as? UInt64 == expected.size * 512)
            #expect(shown["chunk_size"] as? UInt64 == expected.chunkSize * 512)
            let extents = try #require(shown["extents"] as? [[String: Any]])
            #expect(extents.map { $0["name"] as? String } == expected.partitions)
            for extent in extents {
                let partition = try #require(tool.partitions[extent["name"] as? String ?? ""])
                #expect(extent["start"] as? UInt64 == partition.start)
                #expect(extent["size"] as? UInt64 == partition.size)
                #expect(extent["disk"] as? String == partition.disk)
            }
            let probed = try #require(shown["volume"] as? [String: Any])
            #expect(probed["path"] as? String == "/ldm/\(expected.name)")
            #expect(probed["kind"] as? String == "ntfs")
            #expect(probed["state"] as? String == "readable", "\(probed)")
        }
        #expect(try fixture.expectSuccess(["inspect", id]).contains("disk group   \(tool.groupName)"))

        let source = [UInt8](try Data(contentsOf: URL(fileURLWithPath: blob)))
        for volume in builder.volumes {
            #expect(try copy(fixture, "\(id):/ldm/\(volume.name)/notes.txt") == Array("in \(volume.name)\n".utf8))
            #expect(try copy(fixture, "\(id):/ldm/\(volume.name)/blob.bin") == source, "\(volume.name)")
        }
        #expect(try fixture.expectSuccess(["ls", "\(id):/ldm"]).split(separator: "\n").map(String.init) == builder.volumes.map(\.name))
        let listing = try fixture.run(["ls", "\(id):/disk2/part1"])
        #expect(listing.stderr.contains("Windows dynamic disk of disk group \(tool.groupName): it holds pieces of the dynamic volumes /ldm/Volume4, /ldm/Volume5"),
                "\(listing.stderr)")
    }

    @Test func aMissingDiskIsNamedAndTheVolumesOnTheOthersStayReadable() throws {
        let fixture = try CLIFixture()
        let directory = fixture.directory
        let builder = try LDMImageBuilder(in: directory, sizes: [32 << 20, 32 << 20])
        builder.addVolume("Data", layout: .spanned, disks: [0, 1], size: 8192)
        builder.addVolume("Docs", layout: .simple, disks: [0], size: 16384)
        try builder.writeMetadata()
        let image = try NTFSImageBuilder.make(in: directory, size: 16384 * 512, cluster: 4096, fill: "printf 'kept\\n' > \"$1/kept.txt\"")
        try builder.fill("Docs", with: [UInt8](try Data(contentsOf: URL(fileURLWithPath: image))))
        let tool = try LDMToolReport.read([builder.disks[0].path])
        let absent = try #require(tool.disks.first { !$0.present })
        let id = try create(fixture, [builder.disks[0].path])

        let volumes = try #require(try diskGroups(fixture, id).first?["volumes"] as? [[String: Any]])
        let data = try #require(volumes.first { $0["name"] as? String == "Data" })
        let expected = "dynamic volume Data has a partition on disk \(absent.name) (\(absent.guid)), which is not in this point"
        #expect(data["problem"] as? String == expected)
        let listing = try fixture.run(["ls", "\(id):/ldm/Data"])
        #expect(listing.status != 0)
        #expect(listing.stderr.contains(absent.guid), "\(listing.stderr)")
        #expect(try copy(fixture, "\(id):/ldm/Docs/kept.txt") == Array("kept\n".utf8))
    }
}

extension LDMCLITests {
    @Test func gptDynamicDisksShowTheirMetadataAndDataPartitions() throws {
        let fixture = try CLIFixture()
        let directory = fixture.directory
        let builder = try LDMImageBuilder(in: directory, sizes: [32 << 20, 32 << 20], scheme: .gpt)
        builder.addVolume("Archive", layout: .spanned, disks: [0, 1], size: 8192)
        try builder.writeMetadata()
        let image = try NTFSImageBuilder.make(in: directory, size: 16384 * 512, cluster: 4096, fill: "printf 'on GPT\\n' > \"$1/gpt.txt\"")
        try builder.fill("Archive", with: [UInt8](try Data(contentsOf: URL(fileURLWithPath: image))))
        let tool = try LDMToolReport.read(builder.disks.map(\.path))
        let id = try create(fixture, builder.disks.map(\.path))

        let group = try #require(try diskGroups(fixture, id).first)
        #expect(group["guid"] as? String == tool.groupGUID)
        let volume = try #require((group["volumes"] as? [[String: Any]])?.first)
        #expect(volume["type"] as? String == tool.volumes.first?.type)
        #expect(volume["size"] as? UInt64 == (tool.volumes.first?.size ?? 0) * 512)
        #expect(try copy(fixture, "\(id):/ldm/Archive/gpt.txt") == Array("on GPT\n".utf8))
        let metadata = try fixture.run(["ls", "\(id):/disk1/part1"])
        #expect(metadata.stderr.contains("Windows LDM metadata of disk group \(tool.groupName)"), "\(metadata.stderr)")
        let data = try fixture.run(["ls", "\(id):/disk1/part2"])
        #expect(data.stderr.contains("it holds pieces of the dynamic volumes /ldm/Archive"), "\(data.stderr)")

        // Through a mount: /ldm has a node of its own.
        let mountpoint = directory.file("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        #expect(try fixture.run(["mount", id, mountpoint]).status == 0)
        defer { _ = try? Shell.run("fusermount3", ["-uz", mountpoint]) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: mountpoint).sorted() == ["disk0", "disk1", "ldm"])
        #expect(try String(contentsOfFile: "\(mountpoint)/ldm/Archive/gpt.txt", encoding: .utf8) == "on GPT\n")
    }
}

extension LDMCLITests {
    /// Disks Windows made (libldm's test data): every volume's test file, through the tree.
    @Test(arguments: ["2003r2", "2008r2"])
    func everyVolumeWindowsMadeGivesItsTestFile(release: String) throws {
        let fixture = try CLIFixture()
        let images = try WindowsDynamicDisks.unpack(release, into: fixture.directory)
        let tool = try LDMToolReport.read(images)
        let id = try create(fixture, images)
        let names = try fixture.expectSuccess(["ls", "\(id):/ldm"]).split(separator: "\n").map(String.init)
        #expect(names.sorted() == tool.volumes.map(\.name).sorted())
        for volume in tool.volumes {
            let destination = fixture.directory.file("\(volume.name).txt")
            let result = try fixture.run(["cp", "\(id):/ldm/\(volume.name)/test.txt", destination])
            #expect(result.status == 0, "\(volume.name) (\(volume.type)): \(result.stderr)")
            #expect((try? String(contentsOfFile: destination, encoding: .utf8)) == WindowsDynamicDisks.testFileContents, "\(volume.name)")
        }
    }
}

extension LDMCLITests {
    /// docs/LDM.md, *Naming*: a name taken by another disk group's volume gets the volume's
    /// GUID, a '/' in a name becomes '_'.
    @Test func volumesOfTwoGroupsWithOneNameBothGetADirectory() throws {
        let fixture = try CLIFixture()
        var guids: [String] = []
        for which in ["first", "second"] {
            // Each group's disk is made in a directory of its own, then copied out of it.
            let directory = try TemporaryDirectory("rpfs-ldm-\(which)", in: fixture.directory.path)
            let builder = try LDMImageBuilder(in: directory, sizes: [32 << 20])
            let volume = builder.addVolume("Volume1", layout: .simple, disks: [0], size: 16384)
            if which == "second" { builder.addVolume("Logs/2024", layout: .simple, disks: [0], size: 2048) }
            try builder.writeMetadata()
            let image = try NTFSImageBuilder.make(in: directory, size: 16384 * 512, cluster: 4096, fill: "printf '\(which)\\n' > \"$1/which\"")
            try builder.fill("Volume1", with: [UInt8](try Data(contentsOf: URL(fileURLWithPath: image))))
            guids.append(volume.guid)
            try FileManager.default.copyItem(atPath: builder.disks[0].path, toPath: fixture.directory.file("\(which).img"))
        }
        let id = try create(fixture, ["first", "second"].map { fixture.directory.file("\($0).img") })
        let second = "Volume1-\(guids[1].prefix(8))"
        let listed = try fixture.expectSuccess(["ls", "\(id):/ldm"]).split(separator: "\n").map(String.init)
        #expect(listed == ["Logs_2024", "Volume1", second].sorted())
        #expect(try copy(fixture, "\(id):/ldm/Volume1/which") == Array("first\n".utf8))
        #expect(try copy(fixture, "\(id):/ldm/\(second)/which") == Array("second\n".utf8))
    }
}
