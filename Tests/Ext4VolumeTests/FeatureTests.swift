import Foundation
#if canImport(Glibc)
import Glibc
#endif
import BlockDevices
import Ext4Volume
import TestSupport
import Testing
import VolumeModel

/// One feature at a time, each set up with the real tools and checked against known values.
@Suite struct FeatureTests {
    static let ext4 = ["-t", "ext4", "-b", "4096"]

    @Test func nanosecondTimestampsEpochBitsAndCreationTime() throws {
        let directory = try TemporaryDirectory("rpfs-ext4-times")
        let image = try makeImage(in: directory, options: Self.ext4) { source in
            for name in ["a", "b", "c", "d"] { try Posix.writeFile(join(source, bytes(name)), bytes(name)) }
        }
        // Raw fields as the kernel writes them: seconds (signed 32 bits) and the extra word
        // (2 epoch bits, 30 bits of nanoseconds).
        try Tool.debugfs(image, [
            "sif a mtime 0x60406abf", "sif a mtime_extra \(123_456_789 << 2)",
            "sif a ctime 0x60406ac0", "sif a ctime_extra \(1 << 2)",
            "sif a atime 0x60406ac1", "sif a atime_extra \(999_999_999 << 2)",
            "sif a crtime 0x5f000000", "sif a crtime_extra \(500_000_000 << 2)",
            // Epoch bit 1: 2^32 seconds later (year 2106 and after).
            "sif b mtime 0x10", "sif b mtime_extra \(1 | 5 << 2)",
            // Before 1970: negative seconds, no epoch bits.
            "sif c mtime 0xF0000000", "sif c mtime_extra 0",
            // Epoch bits 3: the largest encodable time.
            "sif c atime 0x7FFFFFFF", "sif c atime_extra \(3 | 7 << 2)",
            // 30 bits can say more than a second: damage, clamped.
            "sif d mtime 0x60000000", "sif d mtime_extra \(0x3FFF_FFFF << 2 & 0xFFFF_FFFC)",
        ], write: true, in: directory)
        let volume = try openVolume(image)
        let a = try volume.attributes(of: volume.node(at: "a"))
        #expect(a.modified == Timestamp(seconds: 0x6040_6ABF, nanoseconds: 123_456_789))
        #expect(a.changed == Timestamp(seconds: 0x6040_6AC0, nanoseconds: 1))
        #expect(a.accessed == Timestamp(seconds: 0x6040_6AC1, nanoseconds: 999_999_999))
        #expect(a.created == Timestamp(seconds: 0x5F00_0000, nanoseconds: 500_000_000))
        let b = try volume.attributes(of: volume.node(at: "b"))
        #expect(b.modified == Timestamp(seconds: 0x10 + (1 << 32), nanoseconds: 5))
        let c = try volume.attributes(of: volume.node(at: "c"))
        #expect(c.modified == Timestamp(seconds: -0x1000_0000, nanoseconds: 0))
        #expect(c.accessed == Timestamp(seconds: 0x7FFF_FFFF + (3 << 32), nanoseconds: 7))
        let d = try volume.attributes(of: volume.node(at: "d"))
        #expect(d.modified == Timestamp(seconds: 0x6000_0000, nanoseconds: 999_999_999))

        // Every inode against debugfs's raw words, decoded as fs/ext4/ext4.h does.
        let nodes = try volume.walk()
        let reports = try Debugfs.stat(image, nodes.values.map(\.entry.node), in: directory)
        for node in nodes.values {
            let report = try #require(reports[node.entry.node])
            let shown = node.attributes
            for (field, value) in [("mtime", shown.modified), ("ctime", shown.changed), ("atime", shown.accessed)] {
                let raw = try #require(report.times[field])
                #expect(value == Self.decode(raw), "\(text(node.path)) \(field)")
            }
            #expect(shown.created == report.times["crtime"].map(Self.decode))
        }
    }

    /// 128-byte inodes have no extra fields: whole seconds, no creation time.
    @Test func smallInodesHaveNoNanosecondsNorCreationTime() throws {
        let directory = try TemporaryDirectory("rpfs-ext4-small-inodes")
        let image = try makeImage(in: directory, options: ["-t", "ext2", "-I", "128"]) { source in
            try Posix.writeFile(join(source, bytes("file")), bytes("x"))
            try Posix.setTimes(join(source, bytes("file")), accessed: 1_000_000_000, modified: 1_100_000_000, nanoseconds: 123)
        }
        let volume = try openVolume(image)
        #expect(volume.info.inodeSize == 128)
        let file = try volume.attributes(of: volume.node(at: "file"))
        #expect(file.modified == Timestamp(seconds: 1_100_000_000, nanoseconds: 0))
        #expect(file.created == nil)
    }

    static func decode(_ raw: (UInt32, UInt32?)) -> Timestamp {
        let seconds = Int64(Int32(bitPattern: raw.0)) + Int64((raw.1 ?? 0) & 3) << 32
        return Timestamp(seconds: seconds, nanoseconds: min((raw.1 ?? 0) >> 2, 999_999_999))
    }

    /// trusted.* and security.* (set with debugfs, no privileges needed), and a value too large
    /// for the inode or an attribute block, stored in its own inode (ea_inode).
    @Test func attributeNamespacesAndValueInodes() throws {
        let directory = try TemporaryDirectory("rpfs-ext4-xattr")
        let image = try makeImage(in: directory, size: "16M", options: ["-t", "ext4", "-b", "4096", "-O", "ea_inode"]) { source in
            try Posix.writeFile(join(source, bytes("file")), bytes("data"))
        }
        let large = content(4096, seed: 99)
        let valueFile = directory.file("value")
        try Posix.writeFile(bytes(valueFile), large)
        try Tool.debugfs(image, ["ea_set file trusted.overlay.opaque y", "ea_set file security.ima imaval",
                                 "ea_set -f \(valueFile) file user.large"], write: true, in: directory)
        let volume = try openVolume(image)
        let node = try volume.node(at: "file")
        let shown = try volume.extendedAttributes(of: node)
        #expect(shown.map(\.name) == ["security.ima", "trusted.overlay.opaque", "user.large"])
        #expect(shown.first { $0.name == "user.large" }?.value == large)
        #expect(shown.first { $0.name == "trusted.overlay.opaque" }?.value == bytes("y"))
        // debugfs agrees on the stored value, and the value's inode is not in any directory.
        let fetched = directory.file("fetched")
        try Tool.debugfs(image, ["ea_get -f \(fetched) file user.large"], in: directory)
        #expect(try Posix.readFile(bytes(fetched)) == large)
        #expect(try volume.walk().count == 2, "lost+found and file only")
    }

    /// huge_file: i_blocks has 48 bits, and counts filesystem blocks (not 512-byte sectors)
    /// in inodes flagged EXT4_HUGE_FILE_FL. debugfs prints the raw count.
    @Test func hugeFileBlockCounts() throws {
        let directory = try TemporaryDirectory("rpfs-ext4-huge")
        let image = try makeImage(in: directory, size: "16M", options: Self.ext4) { source in
            try Posix.writeFile(join(source, bytes("huge")), bytes("huge"))
            try Posix.writeFile(join(source, bytes("large")), bytes("large"))
        }
        try Tool.debugfs(image, ["sif huge flags 0xC0000", "sif huge blocks 3", "sif huge blocks_hi 1",
                                 "sif large blocks 3", "sif large blocks_hi 1"], write: true, in: directory)
        let volume = try openVolume(image)
        #expect(volume.info.features.contains("huge_file"))
        let huge = try volume.node(at: "huge")
        let large = try volume.node(at: "large")
        let reports = try Debugfs.stat(image, [huge, large], in: directory)
        #expect(reports[huge]?.blockCount == 1 << 32 | 3)
        #expect(try volume.attributes(of: huge).allocatedBytes == (1 << 32 | 3) * 4096)
        #expect(try volume.attributes(of: large).allocatedBytes == (1 << 32 | 3) * 512)
        #expect(try volume.readAll(huge) == bytes("huge"))
    }

    @Test func thirtyTwoBitOwners() throws {
        let directory = try TemporaryDirectory("rpfs-ext4-owners")
        let image = try makeImage(in: directory, options: Self.ext4) { source in
            try Posix.writeFile(join(source, bytes("owned")), bytes("x"))
        }
        try Tool.debugfs(image, ["sif owned uid 70000", "sif owned gid 4000000000"], write: true, in: directory)
        let volume = try openVolume(image)
        let owned = try volume.attributes(of: volume.node(at: "owned"))
        #expect(owned.uid == 70000)
        #expect(owned.gid == 4_000_000_000)
    }

    @Test func deviceNodesShownNeverOpened() throws {
        let directory = try TemporaryDirectory("rpfs-ext4-devices")
        let image = try makeImage(in: directory, options: Self.ext4) { _ in }
        // debugfs stores 8:8 numbers in i_block[0] (old encoding) and larger ones in i_block[1].
        try Tool.debugfs(image, ["mknod tty c 4 5", "mknod wide c 300 7", "mknod nvme b 259 65000", "mknod sda1 b 8 1"],
                         write: true, in: directory)
        let volume = try openVolume(image)
        let expected: [(String, NodeKind, UInt32, UInt32)] = [
            ("tty", .characterDevice, 4, 5), ("wide", .characterDevice, 300, 7),
            ("nvme", .blockDevice, 259, 65000), ("sda1", .blockDevice, 8, 1),
        ]
        let entries = try volume.entries(of: volume.rootNode)
        for (name, kind, major, minor) in expected {
            let node = try volume.node(at: name)
            let attributes = try volume.attributes(of: node)
            #expect(attributes.kind == kind, "\(name)")
            #expect(entries.first { $0.name.description == name }?.kind == kind)
            #expect(attributes.device == Self.makedev(major, minor), "\(name)")
            // debugfs's own reading of the numbers.
            let stat = try Tool.debugfs(image, ["stat <\(node)>"], in: directory)
            #expect(stat.contains("Device major/minor number: \(String(format: "%02d:%02d", major, minor)) "), "\(name): \(stat)")
            #expect(volumeError { () throws(VolumeError) in try volume.read(node, at: 0, count: 1) }?.kind == "unsupported")
        }
    }

    /// glibc's makedev (sys/sysmacros.h) for 64-bit dev_t.
    static func makedev(_ major: UInt32, _ minor: UInt32) -> UInt64 {
        let major = UInt64(major), minor = UInt64(minor)
        return (major & 0xFFF) << 8 | (major & ~0xFFF) << 32 | (minor & 0xFF) | (minor & ~0xFF) << 12
    }

    @Test func journalNeedingRecoveryIsReadAsItStands() throws {
        let directory = try TemporaryDirectory("rpfs-ext4-journal")
        let old = [UInt8](repeating: UInt8(ascii: "O"), count: 4096)
        let image = try makeImage(in: directory, size: "16M", options: Self.ext4) { source in
            try Posix.writeFile(join(source, bytes("file")), old)
        }
        // A committed transaction that rewrites the file's block, never replayed: what a guest
        // that lost power leaves behind.
        let block = try physicalBlock(image, "file", logical: 0, in: directory)
        let newBlock = directory.file("new-block")
        try Posix.writeFile(bytes(newBlock), [UInt8](repeating: UInt8(ascii: "N"), count: 4096))
        try Tool.debugfs(image, ["jo", "jw -b \(block) \(newBlock)", "jc"], write: true, in: directory)
        let before = try Data(contentsOf: URL(fileURLWithPath: image))

        let volume = try openVolume(image)
        #expect(volume.info.needsRecovery)
        #expect(volume.info.features.contains("needs_recovery"))
        #expect(volume.info.features.contains("has_journal"))
        #expect(try volume.readAll(volume.node(at: "file")) == old, "the volume as it stands, journal not replayed")
        _ = try volume.walk()
        // Nothing was written: the image is byte for byte what it was.
        #expect(try Data(contentsOf: URL(fileURLWithPath: image)) == before)
        let clean = try openVolume(try makeImage(in: directory, name: "clean.img", options: Self.ext4) { _ in })
        #expect(!clean.info.needsRecovery)

        // e2fsck would replay it (proof that the journal really held the new block).
        let copy = directory.file("replayed.img")
        try FileManager.default.copyItem(atPath: image, toPath: copy)
        try Tool.run("e2fsck", ["-fy", copy], allowFailure: true)
        #expect(try openVolume(copy).readAll(openVolume(copy).node(at: "file")) == [UInt8](repeating: UInt8(ascii: "N"), count: 4096))
    }

    @Test func uninitializedExtentsReadAsZeros() throws {
        let directory = try TemporaryDirectory("rpfs-ext4-unwritten")
        let written = content(8192, seed: 7)
        let image = try makeImage(in: directory, options: ["-t", "ext4", "-b", "1024"]) { source in
            try Posix.writeFile(join(source, bytes("mixed")), written)
        }
        // Blocks 8-19 preallocated (unwritten), as fallocate(2) leaves them; the size covers them.
        try Tool.debugfs(image, ["fallocate mixed 8 19", "sif mixed size 20480"], write: true, in: directory)
        // Garbage in the preallocated blocks: the reader must not show it.
        for logical in UInt64(8) ... 19 {
            let block = try physicalBlock(image, "mixed", logical: logical, in: directory)
            try Posix.patch(image, at: block * 1024, [UInt8](repeating: 0xEE, count: 1024))
        }
        let volume = try openVolume(image)
        let node = try volume.node(at: "mixed")
        #expect(try volume.readAll(node) == written + [UInt8](repeating: 0, count: 12288))
        #expect(try volume.read(node, at: 8000, count: 400) == Array(written[8000...]) + [UInt8](repeating: 0, count: 208))
        #expect(try volume.dataRanges(of: node) == [0 ..< 8192])
        let report = try #require(try Debugfs.stat(image, [node], in: directory)[node])
        #expect(report.extents.contains { $0.uninitialized }, "debugfs sees unwritten extents")
        #expect(try volume.dataRanges(of: node) == Debugfs.dataRanges(report, blockSize: 1024))
    }

    @Test func casefoldedDirectoryLooksUpByFoldedName() throws {
        let directory = try TemporaryDirectory("rpfs-ext4-casefold")
        let image = try makeImage(in: directory, options: ["-t", "ext4", "-O", "casefold"]) { source in
            try Posix.mkdir(join(source, bytes("folded")))
            try Posix.writeFile(join(source, bytes("folded/Straße.TXT")), bytes("folded"))
            try Posix.mkdir(join(source, bytes("plain")))
            try Posix.writeFile(join(source, bytes("plain/File.txt")), bytes("plain"))
        }
        // EXT4_CASEFOLD_FL (and the extents flag it already has), as chattr +F sets it.
        try Tool.debugfs(image, ["sif folded flags 0x40080000"], write: true, in: directory)
        let volume = try openVolume(image)
        #expect(volume.info.features.contains("casefold"))
        let folded = try volume.node(at: "folded")
        let exact = try volume.lookup(FileName(validating: "Straße.TXT"), in: folded)
        #expect(try volume.lookup(FileName(validating: "STRASSE.txt"), in: folded) == exact)
        #expect(try volume.lookup(FileName(validating: "straße.txt"), in: folded) == exact)
        #expect(try volume.entries(of: folded).map(\.name.description) == ["Straße.TXT"], "names as stored")
        let plain = try volume.node(at: "plain")
        #expect(volumeError { () throws(VolumeError) in try volume.lookup(FileName(validating: "file.TXT"), in: plain) }?.kind == "notFound")
        #expect(try volume.lookup(FileName(validating: "File.txt"), in: plain) > 0)
    }

    @Test(arguments: [
        (["-t", "ext2", "-b", "1024"], Ext4Info.Flavour.ext2),
        (["-t", "ext3", "-b", "2048"], .ext3),
        (["-t", "ext4", "-b", "4096", "-O", "inline_data,^has_journal"], .ext4),
        (["-t", "ext4", "-b", "1024", "-O", "bigalloc", "-C", "16384"], .ext4),
        (["-t", "ext4", "-b", "65536"], .ext4),
        (["-t", "ext4", "-b", "4096", "-O", "meta_bg,^resize_inode,sparse_super2"], .ext4),
    ])
    func superblockInformationMatchesDumpe2fs(_ options: [String], _ flavour: Ext4Info.Flavour) throws {
        let directory = try TemporaryDirectory("rpfs-ext4-info")
        let image = try makeImage(in: directory, size: "32M",
                                  options: options + ["-L", "my label", "-U", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"]) { source in
            try Posix.writeFile(join(source, bytes("file")), content(100_000, seed: 3))
        }
        let volume = try openVolume(image)
        let header = try Tool.run("dumpe2fs", ["-h", image]).text
        func field(_ name: String) -> String {
            header.split(separator: "\n").first { $0.hasPrefix(name + ":") }
                .map { String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces) } ?? ""
        }
        #expect(volume.info.flavour == flavour)
        #expect(volume.info.label == "my label")
        #expect(volume.info.uuid == "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
        #expect(volume.info.features == field("Filesystem features").split(separator: " ").map(String.init))
        #expect(String(volume.info.blockSize) == field("Block size"))
        #expect(String(volume.info.blockCount) == field("Block count"))
        #expect(String(volume.info.inodeCount) == field("Inode count"))
        #expect(!volume.info.hasErrors)
        #expect(try volume.readAll(volume.node(at: "file")) == content(100_000, seed: 3))
    }

    @Test func wrongKindsAndMissingNamesAreNamed() throws {
        let directory = try TemporaryDirectory("rpfs-ext4-errors")
        let image = try makeImage(in: directory, options: Self.ext4) { source in
            try Posix.writeFile(join(source, bytes("file")), bytes("hello"))
            try Posix.mkdir(join(source, bytes("dir")))
            try Posix.symlink(bytes("file"), at: join(source, bytes("link")))
            try Posix.mkfifo(join(source, bytes("fifo")))
        }
        let volume = try openVolume(image, name: "disk0/p1")
        let file = try volume.node(at: "file")
        let dir = try volume.node(at: "dir")
        let link = try volume.node(at: "link")
        let fifo = try volume.node(at: "fifo")

        let missing = volumeError { () throws(VolumeError) in try volume.lookup(FileName(validating: "nope"), in: volume.rootNode) }
        #expect(missing?.kind == "notFound")
        #expect(missing?.description.contains("nope") == true)
        #expect(missing?.description.contains("disk0/p1") == true, "errors name the volume")
        #expect(volumeError { () throws(VolumeError) in try volume.entries(of: file) }?.kind == "notADirectory")
        #expect(volumeError { () throws(VolumeError) in try volume.lookup(FileName(validating: "x"), in: file) }?.kind == "notADirectory")
        #expect(volumeError { () throws(VolumeError) in try volume.symlinkTarget(of: file) }?.kind == "notASymlink")
        #expect(volumeError { () throws(VolumeError) in try volume.read(dir, at: 0, count: 1) }?.kind == "isADirectory")
        #expect(volumeError { () throws(VolumeError) in try volume.dataRanges(of: dir) }?.kind == "isADirectory")
        #expect(volumeError { () throws(VolumeError) in try volume.read(link, at: 0, count: 1) }?.kind == "unsupported")
        #expect(volumeError { () throws(VolumeError) in try volume.read(fifo, at: 0, count: 1) }?.kind == "unsupported")
        #expect(volumeError { () throws(VolumeError) in try volume.attributes(of: 0) }?.kind == "notFound")
        #expect(volumeError { () throws(VolumeError) in try volume.attributes(of: UInt64(volume.info.inodeCount) + 1) }?.kind == "notFound")
        #expect(volumeError { () throws(VolumeError) in try volume.attributes(of: UInt64.max) }?.kind == "notFound")
        // An inode that was never used.
        #expect(volumeError { () throws(VolumeError) in try volume.attributes(of: UInt64(volume.info.inodeCount)) }?.kind == "corrupt")
        #expect(try volume.symlinkTarget(of: link) == bytes("file"))

        // Reads: short at the end, empty past it, zero-length buffers.
        #expect(try volume.read(file, at: 3, count: 100) == bytes("lo"))
        #expect(try volume.read(file, at: 5, count: 100) == [])
        #expect(try volume.read(file, at: UInt64.max, count: 100) == [])
        #expect(try volume.read(file, at: 0, count: 0) == [])
    }

    @Test func notAnExtVolume() throws {
        let zeros = volumeError { () throws(VolumeError) in try Ext4Volume.open(MemoryDevice(bytes: [UInt8](repeating: 0, count: 1 << 20)), name: "zeros") }
        #expect(zeros?.kind == "corrupt")
        #expect(zeros?.description.contains("0xEF53") == true)
        let tiny = volumeError { () throws(VolumeError) in try Ext4Volume.open(MemoryDevice(bytes: [UInt8](repeating: 0, count: 512)), name: "tiny") }
        #expect(tiny?.kind == "corrupt")
        #expect(tiny?.description.contains("outside the volume") == true)
        var random = SeededBytes(seed: 11)
        let noise = volumeError { () throws(VolumeError) in try Ext4Volume.open(MemoryDevice(bytes: random.bytes(1 << 20)), name: "noise") }
        #expect(noise?.kind == "corrupt")
    }

    /// An external journal device carries an ext superblock but no filesystem.
    @Test func externalJournalDeviceIsRefused() throws {
        let directory = try TemporaryDirectory("rpfs-ext4-journal-device")
        let image = directory.file("journal.img")
        try Tool.run("mke2fs", ["-q", "-F", "-O", "journal_dev", "-b", "4096", image, "8M"])
        let error = volumeError { () throws(VolumeError) in try openVolume(image) }
        #expect(error?.kind == "unsupported")
        #expect(error?.description.contains("unsupported feature") == true)
    }

    /// Read failures of the device (a damaged or missing chunk) reach the caller as
    /// `.device`, with the device's own error, not as a libext2fs "short read".
    @Test func deviceErrorsSurfaceAsDeviceErrors() throws {
        let directory = try TemporaryDirectory("rpfs-ext4-device-errors")
        let image = try makeImage(in: directory, options: Self.ext4) { source in
            try Posix.writeFile(join(source, bytes("first")), content(100_000, seed: 1))
            try Posix.writeFile(join(source, bytes("second")), content(100_000, seed: 2))
            try Posix.mkdir(join(source, bytes("sub")))
            try Posix.writeFile(join(source, bytes("sub/inner")), bytes("inner"))
        }
        let healthy = try openVolume(image)
        let first = try healthy.node(at: "first")
        let second = try healthy.node(at: "second")
        let dataBlock = try physicalBlock(image, "first", logical: 5, in: directory)
        let inodeAt = try inodeOffset(image, second, blockSize: 4096, in: directory)

        let device = FailingDevice(base: try FileBlockDevice(path: image), failing: dataBlock * 4096 ..< dataBlock * 4096 + 1)
        let volume = try Ext4Volume.open(device, name: "failing")
        let failure = volumeError { () throws(VolumeError) in try volume.readAll(first) }
        #expect(failure?.kind == "device")
        #expect(failure?.description.contains("test-device") == true)
        #expect(try volume.read(first, at: 0, count: 4096) == content(4096, seed: 1), "blocks before the damage read fine")
        #expect(try volume.readAll(second) == content(100_000, seed: 2))

        // Failures under libext2fs are reported the same way: the inode table (which holds the
        // root, so the open fails) and a directory block.
        let inodeTable = FailingDevice(base: try FileBlockDevice(path: image), failing: inodeAt ..< inodeAt + 1)
        #expect(volumeError { () throws(VolumeError) in try Ext4Volume.open(inodeTable, name: "failing-inodes") }?.kind == "device")
        let subdirectory = try healthy.node(at: "sub")
        let directoryBlock = try physicalBlock(image, "sub", logical: 0, in: directory)
        let directoryFailure = FailingDevice(base: try FileBlockDevice(path: image), failing: directoryBlock * 4096 ..< directoryBlock * 4096 + 1)
        let broken = try Ext4Volume.open(directoryFailure, name: "failing-directory")
        let listing = volumeError { () throws(VolumeError) in try broken.entries(of: subdirectory) }
        #expect(listing?.kind == "device")
        #expect(listing?.description.contains("Input/output error") == true)
        #expect(try broken.readAll(first) == content(100_000, seed: 1), "other reads still work")
        #expect(try broken.entries(of: broken.rootNode).count == 4)
    }

    /// Volumes release their device (and libext2fs handle) when dropped; opening many in a
    /// row leaves nothing behind.
    @Test func volumesReleaseTheirDevice() throws {
        let directory = try TemporaryDirectory("rpfs-ext4-release")
        let image = try makeImage(in: directory, options: Self.ext4) { source in
            try Posix.writeFile(join(source, bytes("file")), bytes("x"))
        }
        final class Tracked: BlockDevice, @unchecked Sendable {
            let base: FileBlockDevice
            init(_ base: FileBlockDevice) { self.base = base }
            var size: UInt64 { base.size }
            func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DiskReadError) {
                try base.read(at: offset, into: buffer)
            }
        }
        weak var released: Tracked?
        for _ in 0 ..< 200 {
            let device = Tracked(try FileBlockDevice(path: image))
            released = device
            let volume = try Ext4Volume.open(device, name: "loop")
            #expect(try volume.readAll(volume.node(at: "file")) == bytes("x"))
        }
        #expect(released == nil, "the last volume let go of its device")
    }
}

