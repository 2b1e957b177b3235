import BlockDevices
import Ext4Volume
import Foundation
import TestSupport
import Testing
import VolumeModel

/// Images other projects built for their own tests (fixtures/ext/README.md), checked against
/// the listings The Sleuth Kit printed for them and against icat/debugfs on the same bytes.
@Suite struct CorpusTests {
    /// Our walk as fls prints it (control characters as '^').
    static func listing(_ nodes: [[UInt8]: VolumeNode]) -> [[UInt8]: UInt64] {
        Dictionary(uniqueKeysWithValues: nodes.map { (TreeTests.sleuthKitName($0.key), $0.value.entry.node) })
    }

    @Test func ext4ViewDisk() throws {
        let directory = try TemporaryDirectory("rpfs-ext4-corpus")
        let image = try Tool.fixture("ext4-view-test_disk1.img", in: directory)
        let volume = try openVolume(image, name: "ext4-view")
        #expect(volume.info.label == "ext4-view testfs")
        #expect(volume.info.uuid == "b71b0990-3859-457c-8160-36deac864c27")
        #expect(volume.info.flavour == .ext4)
        #expect(volume.info.blockSize == 1024)
        for feature in ["64bit", "metadata_csum", "encrypt", "orphan_file", "flex_bg", "huge_file"] {
            #expect(volume.info.features.contains(feature), "\(feature)")
        }

        // The fscrypt directory: shown, refused on access, with the reason.
        let encrypted = try volume.node(at: "encrypted_dir")
        let encryptedAttributes = try volume.attributes(of: encrypted)
        #expect(encryptedAttributes.kind == .directory)
        let refusal = volumeError { () throws(VolumeError) in try volume.entries(of: encrypted) }
        #expect(refusal?.kind == "refused")
        #expect(refusal?.description.contains("fscrypt") == true)
        #expect(refusal?.description.contains("ciphertext") == true)
        #expect(volumeError { () throws(VolumeError) in try volume.lookup(FileName(validating: "anything"), in: encrypted) }?.kind == "refused")
        // Its file (found by the fls listing: its name is ciphertext) is refused too.
        let truth = try Tool.fixtureListing("ext4-view-test_disk1")
        let encryptedFile = try #require(truth.first { $0.key.starts(with: bytes("encrypted_dir/")) }?.value)
        #expect(try volume.attributes(of: encryptedFile).kind == .regular)
        #expect(volumeError { () throws(VolumeError) in try volume.read(encryptedFile, at: 0, count: 10) }?.kind == "refused")
        // The encryption context is not an attribute anyone can restore: not listed.
        #expect(try volume.extendedAttributes(of: encrypted).map(\.name) == ["security.selinux"])

        // Everything else matches The Sleuth Kit's listing: names, inodes, the htree directories.
        let nodes = try volume.walk(skipping: [encrypted])
        let expected = truth.filter { !$0.key.starts(with: bytes("encrypted_dir/")) }
        #expect(Self.listing(nodes) == expected, "\(Set(Self.listing(nodes).keys).symmetricDifference(expected.keys).map(text).prefix(10))")
        #expect(nodes.keys.filter { $0.starts(with: bytes("big_dir/")) }.count == 10_000)
        #expect(nodes.keys.filter { $0.starts(with: bytes("medium_dir/")) }.count == 1_000)
        let bigDirectory = try volume.node(at: "big_dir")
        for name in ["1", "42", "5000", "9999"] {
            #expect(try volume.lookup(FileName(validating: name), in: bigDirectory) == truth[bytes("big_dir/\(name)")])
        }

        // Symlinks: 59 bytes fits in the inode, 60 does not; loops are just targets.
        #expect(try volume.symlinkTarget(of: volume.node(at: "sym_59")) == [UInt8](repeating: UInt8(ascii: "a"), count: 59))
        #expect(try volume.symlinkTarget(of: volume.node(at: "sym_60")) == [UInt8](repeating: UInt8(ascii: "a"), count: 60))
        #expect(try volume.symlinkTarget(of: volume.node(at: "sym_long")).count == 1023)
        #expect(try volume.symlinkTarget(of: volume.node(at: "sym_loop_a")) == bytes("sym_loop_b"))
        #expect(try volume.symlinkTarget(of: volume.node(at: "dir1/dir2/sym_rel")) == bytes("../../small_file"))

        let owner = try volume.attributes(of: volume.node(at: "owner_file"))
        #expect(owner.uid == 123 && owner.gid == 456)
        #expect(try volume.readAll(volume.node(at: "small_file")) == bytes("hello, world!\n").prefix(13).map { $0 })

        // Holes: blocks 2-3 and 6-7 hold data, the rest reads as zeros.
        let holes = try volume.node(at: "holes")
        #expect(try volume.dataRanges(of: holes) == [2048 ..< 4096, 6144 ..< 8192])
        let dumped = directory.file("holes.dump")
        try Tool.debugfs(image, ["dump holes \(dumped)"], in: directory)
        #expect(try volume.readAll(holes) == [UInt8](try Data(contentsOf: URL(fileURLWithPath: dumped))))

        // Bytes against icat: every file outside the bulk directories, and a sample inside them.
        // (TSK cannot map "holes", whose first block is a hole.)
        let sample = nodes.filter { path, node in
            node.attributes.kind == .regular && path != bytes("holes")
                && (!path.starts(with: bytes("big_dir/")) && !path.starts(with: bytes("medium_dir/")) || node.entry.node % 97 == 0)
        }
        #expect(sample.count > 100)
        for (path, node) in sample {
            #expect(try Tool.icat(image, node.entry.node) == volume.readAll(node.entry.node), "\(text(path))")
        }
        // Each file of the bulk directories holds its own name.
        for node in nodes.values where node.path.starts(with: bytes("medium_dir/")) || node.path.starts(with: bytes("big_dir/")) {
            let name = Array(node.path.split(separator: UInt8(ascii: "/")).last ?? [])
            #expect(try volume.readAll(node.entry.node) == name, "\(text(node.path))")
        }
    }

    @Test func goExt4Hierarchy() throws {
        let directory = try TemporaryDirectory("rpfs-ext4-corpus")
        let image = try Tool.fixture("go-ext4-hierarchy_64.img", in: directory)
        let volume = try openVolume(image, name: "go-ext4")
        #expect(volume.info.features.contains("64bit"))
        let nodes = try volume.walk()
        #expect(Self.listing(nodes) == (try Tool.fixtureListing("go-ext4-hierarchy_64")))
        var files = 0
        for node in nodes.values where node.attributes.kind == .regular {
            #expect(try Tool.icat(image, node.entry.node) == volume.readAll(node.entry.node), "\(text(node.path))")
            files += 1
        }
        #expect(files >= 5)
        #expect(try volume.attributes(of: volume.node(at: "thejungle.txt")).size == 849_597)
    }

    @Test func dfvfsExt2() throws {
        let directory = try TemporaryDirectory("rpfs-ext4-corpus")
        let image = try Tool.fixture("dfvfs-ext2.img", in: directory)
        let volume = try openVolume(image, name: "dfvfs")
        #expect(volume.info.flavour == .ext2)
        #expect(volume.info.label == "ext2_test")
        let nodes = try volume.walk()
        #expect(Self.listing(nodes) == (try Tool.fixtureListing("dfvfs-ext2")))
        for node in nodes.values where node.attributes.kind == .regular {
            #expect(try Tool.icat(image, node.entry.node) == volume.readAll(node.entry.node), "\(text(node.path))")
        }
        let attributes = try volume.extendedAttributes(of: volume.node(at: "a_directory/a_file"))
        #expect(attributes.first { $0.name == "user.myxattr" }?.value == bytes("My extended attribute"))
        #expect(attributes.map(\.name) == ["security.selinux", "user.myxattr"])
        let link = try volume.node(at: "a_link")
        #expect(try volume.attributes(of: link).kind == .symlink)
        #expect(try volume.symlinkTarget(of: link).count == 24)
    }
}
