import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import NTFSVolume
import Synchronization
import TestSupport
import Testing
import VolumeModel

/// One 4 KiB-cluster volume with every feature, made by mkntfs and filled through ntfs-3g
/// once; each test checks one feature against the source bytes and The Sleuth Kit.
final class FeatureImage: @unchecked Sendable {
    static let shared: Result<FeatureImage, any Error> = Result { try FeatureImage() }

    let directory: TemporaryDirectory
    let image: String
    let source: String
    let volume: NTFSVolume

    static let symlinkHex = reparseHex(tag: 0xA000_000C, substitute: "..\\resident.txt", print: "..\\resident.txt", relative: true)
    static let junctionHex = reparseHex(tag: 0xA000_0003, substitute: "\\??\\C:\\Windows", print: "C:\\Windows", relative: false)

    init() throws {
        directory = try TemporaryDirectory("rpfs-ntfs-features")
        source = directory.file("src")
        let script = """
        M="$1"; S="\(source)"; mkdir -p "$S"
        printf 'hello, resident' > "$M/resident.txt"
        head -c 300000 /dev/urandom > "$S/nonresident.bin"; cp "$S/nonresident.bin" "$M/nonresident.bin"
        for i in $(seq 1 40); do
          head -c 12288 /dev/urandom | tee -a "$S/fragA" >> "$M/fragA"
          head -c 4096 /dev/urandom | tee -a "$S/fragB" >> "$M/fragB"
        done
        mkdir "$M/pad"; for i in $(seq 1 60); do head -c 8192 /dev/zero > "$M/pad/p$i"; done
        for i in $(seq 1 2 60); do rm "$M/pad/p$i"; done
        head -c 400000 /dev/urandom | tee "$S/frag" > "$M/frag"
        truncate -s 10000000 "$M/sparse"
        printf 'start' | dd of="$M/sparse" conv=notrunc status=none
        printf 'middle' | dd of="$M/sparse" bs=1 seek=5000000 conv=notrunc status=none
        mkdir "$M/comp"; setfattr -n system.ntfs_attrib_be -v 0x00000800 "$M/comp"
        yes 'compress me, please' | head -c 500000 > "$S/text"; cp "$S/text" "$M/comp/text"
        head -c 100000 /dev/urandom > "$S/random"; cp "$S/random" "$M/comp/random"
        { head -c 70000 /dev/urandom; head -c 200000 /dev/zero; printf tail; } > "$S/holes"; cp "$S/holes" "$M/comp/holes"
        setfattr -n user.small -v 'stream data' "$M/resident.txt"
        head -c 3000 /dev/urandom | base64 -w0 > "$S/bigstream"
        setfattr -n user.big -v "$(cat "$S/bigstream")" "$M/resident.txt"
        mkdir "$M/dir"; ln "$M/resident.txt" "$M/dir/hardlink"
        ln -s resident.txt "$M/interix-link"; ln -s ../comp "$M/dir/dir-link"
        touch "$M/rp-symlink"; setfattr -n system.ntfs_reparse_data -v \(Self.symlinkHex) "$M/rp-symlink"
        mkdir "$M/dir/junction"; setfattr -n system.ntfs_reparse_data -v \(Self.junctionHex) "$M/dir/junction"
        mkdir "$M/big"; for i in $(seq 1 10500); do : > "$M/big/file-$i"; done
        mkdir "$M/unicode"; printf one > "$M/unicode/Ünïcödé-ファイル.txt"; printf two > "$M/unicode/emoji-😀"; printf three > "$M/unicode/Straße"
        mkdir "$M/many"; printf 'linked' > "$M/many/target"; for i in $(seq 1 150); do ln "$M/many/target" "$M/many/link-$i"; done
        touch -d '2021-01-01 13:37:00.123456789' "$M/resident.txt"
        """
        image = try NTFSImageBuilder.make(in: directory, size: 96 << 20, cluster: 4096, label: "features", fill: script)
        volume = try openVolume(image, name: "features")
        // The shared image lives as long as the process; remove it when the run ends.
        FeatureImage.leftover.withLock { $0 = directory.path }
        atexit {
            if let path = FeatureImage.leftover.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: path) }
        }
    }

    static let leftover = Mutex<String?>(nil)

    static func get() throws -> FeatureImage { try shared.get() }
    func sourceBytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(source)/\(name)"))) }
}

@Suite(.timeLimit(.minutes(3))) struct FeatureTests {
    @Test func volumeInfo() throws {
        let image = try FeatureImage.get()
        #expect(image.volume.info.label == "features")
        #expect(image.volume.info.clusterSize == 4096)
        #expect(image.volume.info.mftRecordSize == 1024)
        #expect(image.volume.info.version == "3.1")
        #expect(image.volume.rootNode == 5)
    }

    @Test func treeMatchesSleuthKit() throws {
        let image = try FeatureImage.get()
        let tree = try image.volume.tree()
        let fls = try SleuthKit.fls(image.image)
        // fls also lists streams ("name:stream") and the junction's contents (none).
        let files = fls.filter { !$0.key.contains(":") }
        #expect(Set(tree.keys) == Set(files.keys))
        for (path, entry) in files {
            #expect(tree[path]?.node == entry.inode, "\(path)")
            let directory = entry.type.hasPrefix("d")
            #expect((tree[path]?.kind == .directory) == directory || tree[path]?.kind == .symlink, "\(path)")
        }
        #expect(tree.keys.filter { $0.hasPrefix("big/") }.count == 10500)
        // Metafiles stay hidden, even by name.
        #expect(throws: VolumeError.self) { try image.volume.node(at: "$MFT") }
    }

    @Test func everyRegularFileMatchesIcat() throws {
        let image = try FeatureImage.get()
        for (path, entry) in try image.volume.tree() where entry.kind == .regular && !path.hasPrefix("big/") && !path.hasPrefix("many/link") {
            let ours = try image.volume.contents(entry.node)
            #expect(ours == (try SleuthKit.icat(image.image, String(entry.node))), "\(path)")
        }
    }

    @Test func fileContentsMatchSource() throws {
        let image = try FeatureImage.get()
        let volume = image.volume
        #expect(try volume.contents(volume.node(at: "resident.txt")) == Array("hello, resident".utf8))
        for name in ["nonresident.bin", "fragA", "fragB", "frag"] {
            #expect(try volume.contents(volume.node(at: name)) == image.sourceBytes(name), "\(name)")
        }
        for name in ["text", "random", "holes"] {
            #expect(try volume.contents(volume.node(at: "comp/\(name)")) == image.sourceBytes(name), "comp/\(name)")
        }
    }

    @Test func compressedFilesAreCompressed() throws {
        let image = try FeatureImage.get()
        let node = try image.volume.node(at: "comp/text")
        let data = try #require(try image.volume.file(node).data)
        #expect(data.compressionUnit == 16)
        let attributes = try image.volume.attributes(of: node)
        #expect(attributes.size == 500_000)
        #expect(attributes.allocatedBytes < 100_000)
        // The file of zeros in the middle: holes inside.
        let holes = try image.volume.node(at: "comp/holes")
        #expect(try image.volume.dataRanges(of: holes).reduce(0) { $0 + $1.count } < 270_004)
    }

    @Test func sparseFile() throws {
        let volume = try FeatureImage.get().volume
        let node = try volume.node(at: "sparse")
        var expected = [UInt8](repeating: 0, count: 10_000_000)
        expected.replaceSubrange(0 ..< 5, with: Array("start".utf8))
        expected.replaceSubrange(5_000_000 ..< 5_000_006, with: Array("middle".utf8))
        #expect(try volume.contents(node) == expected)
        let ranges = try volume.dataRanges(of: node)
        #expect(ranges.reduce(0) { $0 + $1.count } < 100_000)
        #expect(ranges.first?.lowerBound == 0)
        #expect(ranges.contains { $0.contains(5_000_000) })
        #expect(try volume.attributes(of: node).size == 10_000_000)
    }

    @Test func alternateDataStreamsAsExtendedAttributes() throws {
        let image = try FeatureImage.get()
        let node = try image.volume.node(at: "resident.txt")
        let xattrs = try image.volume.extendedAttributes(of: node)
        #expect(xattrs.map(\.name) == ["user.ntfs.attributes", "user.ntfs.security_descriptor", "user.ntfs.stream.big", "user.ntfs.stream.small"])
        #expect(xattrs.first { $0.name == "user.ntfs.stream.small" }?.value == Array("stream data".utf8))
        let big = try #require(xattrs.first { $0.name == "user.ntfs.stream.big" })
        #expect(big.value == (try image.sourceBytes("bigstream")))
        let fls = try SleuthKit.fls(image.image)
        let address = try #require(fls["resident.txt:big"])
        #expect(big.value == (try SleuthKit.icat(image.image, "\(address.inode)-\(try #require(address.attribute))")))
    }

    @Test func hardLinksShareANode() throws {
        let volume = try FeatureImage.get().volume
        let file = try volume.node(at: "resident.txt")
        #expect(try volume.node(at: "dir/hardlink") == file)
        #expect(try volume.attributes(of: file).linkCount == 2)
    }

    @Test func attributeListWithManyHardLinks() throws {
        let image = try FeatureImage.get()
        let volume = image.volume
        let target = try volume.node(at: "many/target")
        let istat = try Shell.check("istat", [image.image, String(target)])
        #expect(istat.contains("$ATTRIBUTE_LIST"))
        #expect(try volume.attributes(of: target).linkCount == 151)
        for index in [1, 75, 150] {
            #expect(try volume.node(at: "many/link-\(index)") == target)
        }
        #expect(try volume.contents(target) == Array("linked".utf8))
    }

    @Test func symbolicLinks() throws {
        let volume = try FeatureImage.get().volume
        let interix = try volume.node(at: "interix-link")
        #expect(try volume.attributes(of: interix).kind == .symlink)
        #expect(try volume.symlinkTarget(of: interix) == Array("resident.txt".utf8))
        #expect(try volume.symlinkTarget(of: volume.node(at: "dir/dir-link")) == Array("../comp".utf8))
        let reparse = try volume.node(at: "rp-symlink")
        #expect(try volume.attributes(of: reparse).kind == .symlink)
        #expect(try volume.symlinkTarget(of: reparse) == Array("../resident.txt".utf8))
        let junction = try volume.node(at: "dir/junction")
        #expect(try volume.entries(of: volume.node(at: "dir")).first { $0.node == junction }?.kind == .symlink)
        #expect(try volume.symlinkTarget(of: junction) == Array("C:/Windows".utf8))
        #expect(volumeError { () throws(VolumeError) in _ = try volume.symlinkTarget(of: volume.rootNode) }?.kind == "notASymlink")
    }

    @Test func unicodeNamesAndCaseInsensitiveLookup() throws {
        let volume = try FeatureImage.get().volume
        let directory = try volume.node(at: "unicode")
        let names = try volume.entries(of: directory).map(\.name.description).sorted()
        #expect(names == ["Straße", "emoji-😀", "Ünïcödé-ファイル.txt"].sorted())
        let file = try volume.lookup(FileName(validating: "Ünïcödé-ファイル.txt"), in: directory)
        #expect(try volume.lookup(FileName(validating: "üNÏCÖDÉ-ファイル.TXT"), in: directory) == file)
        #expect(try volume.lookup(FileName(validating: "STRAßE"), in: directory) == volume.node(at: "unicode/Straße"))
        #expect(try volume.lookup(FileName(validating: "RESIDENT.TXT"), in: volume.rootNode) == volume.node(at: "resident.txt"))
        #expect(try volume.contents(volume.node(at: "unicode/emoji-😀")) == Array("two".utf8))
    }

    @Test func timesAndAttributes() throws {
        let volume = try FeatureImage.get().volume
        let node = try volume.node(at: "resident.txt")
        let attributes = try volume.attributes(of: node)
        // 2021-01-01 13:37:00 UTC, in 100 ns steps.
        #expect(attributes.modified == Timestamp(seconds: 1_609_508_220, nanoseconds: 123_456_700))
        #expect(attributes.kind == .regular)
        #expect(attributes.permissions == 0o444)
        #expect(attributes.size == 15)
        #expect(try volume.attributes(of: volume.rootNode).permissions == 0o555)
        let xattr = try #require(try volume.extendedAttributes(of: node).first)
        #expect(xattr.name == "user.ntfs.attributes" && xattr.value.count == 4)
    }

    @Test func bigDirectoryLookups() throws {
        let volume = try FeatureImage.get().volume
        let big = try volume.node(at: "big")
        #expect(try volume.entries(of: big).count == 10500)
        for index in [1, 5000, 10500] {
            #expect(try volume.contents(volume.lookup(FileName(validating: "FILE-\(index)"), in: big)) == [])
        }
        #expect(volumeError { () throws(VolumeError) in _ = try volume.lookup(FileName(validating: "file-10501"), in: big) }?.kind == "notFound")
        let file = try volume.node(at: "resident.txt")
        #expect(volumeError { () throws(VolumeError) in _ = try volume.entries(of: file) }?.kind == "notADirectory")
    }

    @Test func concurrentReads() async throws {
        let image = try FeatureImage.get()
        let expected = try image.sourceBytes("text")
        let node = try image.volume.node(at: "comp/text")
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0 ..< 8 {
                group.addTask { try image.volume.contents(node) == expected }
            }
            for try await same in group { #expect(same) }
        }
    }
}
