import Foundation
import TestSupport
import Testing

/// A GPT disk made by sgdisk: ext4 (mke2fs), an unformatted partition, and LUKS2
/// (cryptsetup) — the shape of a Linux VM whose data partition was encrypted in the guest.
private func linuxDiskWithLUKS(in directory: TemporaryDirectory) throws -> String {
    let disk = try directory.image("disk.img", size: 96 << 20)
    try Shell.check("sgdisk", ["-o", "-n1:2048:+20M", "-t1:8300", "-c1:root", "-n2:0:+20M", "-t2:0700", "-c2:data",
                               "-n3:0:0", "-t3:8300", "-c3:secret", disk])
    let ext4 = try directory.image("root.img", size: 20 << 20)
    try Shell.check("mke2fs", ["-q", "-F", "-t", "ext4", "-L", "rootfs", ext4])
    let luks = try directory.image("luks.img", size: 40 << 20)
    let keyFile = try directory.write("keyfile", Array("correct horse".utf8))
    try Shell.check("cryptsetup", ["luksFormat", "--batch-mode", "--type", "luks2", "--pbkdf", "pbkdf2",
                                   "--pbkdf-force-iterations", "1000", "--key-file", keyFile, luks])
    let third = try Shell.check("sgdisk", ["-i3", disk]).split(separator: "\n")
        .first { $0.hasPrefix("First sector") }?.split(separator: " ").dropFirst(2).first.map(String.init) ?? ""
    try Shell.check("dd", ["if=\(ext4)", "of=\(disk)", "bs=512", "seek=2048", "conv=notrunc", "status=none"])
    try Shell.check("dd", ["if=\(luks)", "of=\(disk)", "bs=512", "seek=\(third)", "conv=notrunc", "status=none"])
    return disk
}

@Suite struct RefusalTests {
    @Test func inspectShowsPartitionsVolumesAndWhyTheyAreRefused() throws {
        let fixture = try CLIFixture()
        let disk = try linuxDiskWithLUKS(in: fixture.directory)
        let id = String(try fixture.expectSuccess(["create", "--kek", "backup", "--disk", disk, "--chunk-size", "64K"]).split(separator: "\n").last ?? "")
        let result = try fixture.run(["inspect", id, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let disks = try #require(report["disks"] as? [[String: Any]])
        let layout = try #require(disks.first?["layout"] as? [String: Any])
        let table = try #require(layout["partition_table"] as? [String: Any])
        #expect(table["scheme"] as? String == "gpt")
        #expect(table["header"] as? String == "primary")
        let volumes = try #require(layout["volumes"] as? [[String: Any]])
        #expect(volumes.map { $0["path"] as? String } == ["/disk0/part1", "/disk0/part2", "/disk0/part3"])
        #expect(volumes.map { $0["kind"] as? String } == ["ext4", "unknown", "luks2"])
        #expect(volumes.map { $0["state"] as? String } == ["readable", "unsupported", "refused"])
        #expect(volumes[0]["label"] as? String == "rootfs")
        let partitions = volumes.compactMap { $0["partition"] as? [String: Any] }
        #expect(partitions.map { $0["name"] as? String } == ["root", "data", "secret"])
        #expect(partitions[0]["type_name"] as? String == "Linux filesystem")
        #expect(partitions[1]["type_name"] as? String == "Microsoft basic data")
        #expect(partitions[0]["start"] as? Int == 1 << 20)
        // Independent truth: blkid on the plaintext image says the same of partition 3.
        let blkid = try Shell.check("blkid", ["-p", "-O", "\((partitions[2]["start"] as? Int) ?? 0)", "-o", "value", "-s", "UUID", disk])
        #expect(volumes[2]["uuid"] as? String == blkid.trimmingCharacters(in: .whitespacesAndNewlines))
        let refusal = try #require(report["refusal"] as? String)
        #expect(refusal.contains("/disk0/part3: LUKS2"))
        #expect(refusal.contains("--skip-encrypted-volumes"))
    }

    @Test func fileCommandsRefuseAPointWithALUKSVolume() throws {
        let fixture = try CLIFixture()
        let disk = try linuxDiskWithLUKS(in: fixture.directory)
        let id = String(try fixture.expectSuccess(["create", "--kek", "backup", "--disk", disk, "--chunk-size", "64K"]).split(separator: "\n").last ?? "")
        let refused = try fixture.run(["ls", id])
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("/disk0/part3: LUKS2"))
        #expect(refused.stderr.contains("passphrase"))
        #expect(refused.stdout.isEmpty)
        // Skipping opens the rest and says so once.
        let skipped = try fixture.run(["ls", "\(id):/disk0", "--skip-encrypted-volumes"])
        #expect(skipped.status == 0, "\(skipped.stderr)")
        #expect(skipped.stdout == "part1\npart2\npart3\n")
        #expect(skipped.stderr.components(separatedBy: "skipping volumes encrypted inside the guest").count == 2)
        #expect(try fixture.run(["ls", "\(id):/disk0/part3", "--skip-encrypted-volumes"]).status == 1)
        // The catalog create wrote holds the other volumes, and the encrypted one with its reason.
        let found = try fixture.expectSuccess(["find", "--json", "--point", id, "/disk0/*"])
        let volumes = try #require(try JSONSerialization.jsonObject(with: Data(found.utf8)) as? [[String: Any]])
        #expect(volumes.map { $0["path"] as? String } == ["/disk0/part1", "/disk0/part2", "/disk0/part3"])
        #expect((volumes.last?["problem"] as? String)?.contains("encrypted inside the guest (LUKS2)") == true, "\(found)")
    }

    @Test func guestEncryptedPointIsRefusedBeforeAnyKeyIsUnwrapped() throws {
        let fixture = try CLIFixture()
        let image = try fixture.directory.image("plain.img", size: 8 << 20)
        try Shell.check("mke2fs", ["-q", "-F", "-t", "ext4", image])
        for (flag, name, unlock) in [("ade-bitlocker", "BitLocker", "BitLocker recovery key"), ("ade-dmcrypt", "dm-crypt", "LUKS passphrase")] {
            let id = String(try fixture.expectSuccess(["create", "--kek", "backup", "--disk", image, "--guest-encryption", flag]).split(separator: "\n").last ?? "")
            // No keyring at all: a refusal that needed the key would fail with 4 instead.
            let result = try Shell.run(rpfsBinary, ["ls", id, "--store", fixture.directory.file("store"), "--keyring", fixture.directory.file("no-keys")], environment: [:])
            #expect(result.status == 3, "\(result.stderr)")
            #expect(result.stderr.contains("point \(id)"))
            #expect(result.stderr.contains(name))
            #expect(result.stderr.contains("Restore the whole disk or VM"))
            #expect(result.stderr.contains(unlock))
            // inspect still shows what the point holds, and why it is refused.
            let inspect = try fixture.expectSuccess(["inspect", id])
            #expect(inspect.contains("/disk0/volume"))
            #expect(inspect.contains("refused      point \(id) is refused"))
            // Its catalog holds its refusal and nothing to find; index writes the same again.
            #expect(try fixture.expectSuccess(["find", "--point", id, "*"]).isEmpty)
            #expect(try fixture.expectSuccess(["index", id]) == "\(id): 1 entry catalogued, 1 with parts that could not be read\n")
        }
    }

    @Test func bitLockerToGoFromTheCorpusIsRefused() throws {
        let fixture = try CLIFixture()
        let image = try fixture.directory.fixture("encrypted", "dfvfs-bdetogo-truncated.img")
        let id = String(try fixture.expectSuccess(["create", "--kek", "backup", "--disk", image, "--chunk-size", "64K"]).split(separator: "\n").last ?? "")
        let inspect = try fixture.expectSuccess(["inspect", id])
        #expect(inspect.contains("/disk0/volume"))
        #expect(inspect.contains("BitLocker To Go"))
        let refused = try fixture.run(["ls", id])
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("/disk0/volume: BitLocker To Go"))
        #expect(refused.stderr.contains("recovery key"))
    }
}
