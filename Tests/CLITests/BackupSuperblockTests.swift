import Foundation
import TestSupport
import Testing

/// A point whose ext4 superblock and group descriptors lie in a damaged chunk: the backup
/// copies in block group 1 give the whole tree, `cp -R` restores it exactly and says once
/// which copy it used, and `inspect` shows it.
@Suite struct BackupSuperblockTests {
    @Test func aDamagedSuperblockChunkIsReadThroughTheBackupCopies() throws {
        let cli = try CLIFixture()
        let directory = cli.directory
        let source = directory.file("src")
        try VMSourceTree.build(at: source)
        // 1 KiB blocks: 8 MiB groups, so the 32 MiB volume keeps backups in groups 1 and 3,
        // and the first 64 KiB chunk holds the superblock and descriptors but no inode table.
        let root = directory.file("root.img")
        try Shell.check("mke2fs", ["-q", "-F", "-t", "ext4", "-b", "1024", "-I", "256", "-d", source, root, "32M"])
        let disk = try directory.image("disk.img", size: 40 << 20)
        try Shell.check("sgdisk", ["-o", "-n1:2048:+32M", "-t1:8300", disk])
        try Shell.check("dd", ["if=\(root)", "of=\(disk)", "bs=1M", "seek=1", "conv=notrunc", "status=none"])
        let id = try cli.create()

        // The partition's first chunk: boot block, superblock, group descriptors.
        let object = try StoredChunks(store: directory.file("store"), keyring: directory.file("keys"), point: id).object(holding: 1 << 20)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: object))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: object))

        let destination = directory.file("out")
        let copied = try cli.run(["cp", "-R", "\(id):/disk0/part1", destination])
        #expect(copied.status == 0, "\(copied.stderr)")
        let notes = copied.stderr.split(separator: "\n")
        #expect(notes == ["rpfs: /disk0/part1: read through the backup superblock at block 8193 (the primary cannot be read)"], "\(copied.stderr)")
        let diff = try Shell.run("diff", ["-r", "--no-dereference", source, destination])
        // diff cannot compare fifos; both are fifos.
        let differences = diff.stdout.split(separator: "\n").filter { !$0.contains("lost+found") && !$0.hasSuffix("is a fifo") }
        #expect(differences.isEmpty, "\(differences)")

        let inspect = try cli.expectSuccess(["inspect", id])
        #expect(inspect.contains("the primary ext superblock cannot be read (integrity error"), "\(inspect)")
        #expect(inspect.contains("using the backup at byte \(8193 * 1024)"), "\(inspect)")
        // verify still names the damage the fallback read around.
        let verify = try cli.run(["verify", id])
        #expect(verify.status == 5, "\(verify.stdout)\(verify.stderr)")
    }
}
