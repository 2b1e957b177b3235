import ByteParsing
import Foundation
@testable import NTFSVolume
import TestSupport
import Testing
import VolumeModel

/// WOF-compressed files and reparse stubs, made through ntfs-3g: the WofCompressedData stream
/// written by `Tests/Tools/wof-compress.py` (chunks compressed by wimlib), the unnamed $DATA
/// truncated (sparse) to the file's size, the reparse point set last through
/// system.ntfs_reparse_data. Oracles: the source bytes, and libfsntfs (python3-libfsntfs,
/// whose XPRESS and LZX decoders are its own) reading the same image.
final class ReparseImage: @unchecked Sendable {
    static let shared: Result<ReparseImage, any Error> = Result { try ReparseImage() }
    static func get() throws -> ReparseImage { try shared.get() }

    static let algorithms = ["xpress4k", "lzx", "xpress8k", "xpress16k"]
    static let wslTarget = "../usr/lib/ünïcode dir/target"
    static var tools: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Tools") }

    let directory: TemporaryDirectory
    let image: String
    let source: String
    let volume: NTFSVolume

    /// Reparse data with `tag` and `body` (hex), for setfattr.
    static func reparse(_ tag: UInt32, _ body: [UInt8]) -> String {
        let header: [UInt8] = (0 ..< 4).map { UInt8(truncatingIfNeeded: tag >> (8 * $0)) } + [UInt8(body.count & 0xFF), UInt8(body.count >> 8), 0, 0]
        return "0x" + Hex.encode(header + body)
    }

    init() throws {
        directory = try TemporaryDirectory("rpfs-ntfs-reparse")
        source = directory.file("src")
        let tool = Self.tools.appendingPathComponent("wof-compress.py").path
        let wimBoot = Self.reparse(0x8000_0017, [1, 0, 0, 0, 1, 0, 0, 0] + [UInt8](repeating: 0, count: 8))
        let script = """
        M="$1"; S="\(source)"; mkdir -p "$S"
        # Machine code, random bytes (chunks stored raw), zeros and an odd tail: every chunk kind.
        { head -c 300000 /usr/bin/bash; head -c 70000 /dev/urandom; head -c 40000 /dev/zero; printf 'the end'; } > "$S/data"
        wof() {  # wof ALGORITHM SOURCE NAME
          hex=$('\(tool)' "$1" "$2" "$S/$3.stream")
          touch "$M/$3"; cat "$S/$3.stream" > "$M/$3:WofCompressedData"
          truncate -s "$(stat -c %s "$2")" "$M/$3"
          setfattr -n system.ntfs_reparse_data -v "0x$hex" "$M/$3"
        }
        for a in \(Self.algorithms.joined(separator: " ")); do wof $a "$S/data" $a; done
        head -c 5000 /usr/bin/bash > "$S/small"; wof lzx "$S/small" small-lzx
        : > "$S/empty"; wof xpress4k "$S/empty" empty
        stub() { truncate -s 1000000 "$M/$1"; setfattr -n system.ntfs_reparse_data -v "$2" "$M/$1"; }
        stub dedup \(Self.reparse(0x8000_0013, [UInt8](repeating: 7, count: 16)))
        stub cloud \(Self.reparse(0x9000_601A, [UInt8](repeating: 1, count: 12)))
        # Placeholders whose data is all here (hydrated), one offline, one for the RECALL test.
        for f in cloud-hydrated cloud-offline cloud-recall; do
          head -c 50000 /usr/bin/bash > "$M/$f"; setfattr -n system.ntfs_reparse_data -v \(Self.reparse(0x9000_601A, [UInt8](repeating: 1, count: 12))) "$M/$f"
        done
        setfattr -n system.ntfs_attrib_be -v 0x00001020 "$M/cloud-offline"
        head -c 50000 /usr/bin/bash > "$S/hydrated"
        stub wimboot \(wimBoot)
        touch "$M/wsl-link"; setfattr -n system.ntfs_reparse_data -v \(Self.reparse(0xA000_001D, [2, 0, 0, 0] + Array(Self.wslTarget.utf8))) "$M/wsl-link"
        """
        image = try NTFSImageBuilder.make(in: directory, size: 24 << 20, cluster: 4096, label: "reparse",
                                          mountOptions: "streams_interface=windows", fill: script)
        volume = try openVolume(image, name: "reparse")
    }

    func sourceBytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(source)/\(name)"))) }

    func libfsntfs(_ path: String) throws -> [UInt8] {
        let result = try Shell.run(Self.tools.appendingPathComponent("fsntfs-cat.py").path, [image, path])
        guard result.status == 0 else { throw TestFailure("fsntfs-cat \(path): \(result.stderr)") }
        return result.output
    }
}

@Suite(.timeLimit(.minutes(3))) struct ReparseTests {
    @Test(arguments: ReparseImage.algorithms) func wofFilesDecompress(_ algorithm: String) throws {
        let image = try ReparseImage.get()
        let node = try image.volume.node(at: algorithm)
        let expected = try image.sourceBytes("data")
        let attributes = try image.volume.attributes(of: node)
        #expect(attributes.kind == .regular && attributes.size == UInt64(expected.count))
        // The compressed stream is what the file occupies.
        #expect(attributes.allocatedBytes > 0 && attributes.allocatedBytes < UInt64(expected.count))
        let ours = try image.volume.contents(node)
        #expect(ours == expected)
        #expect(ours == (try image.libfsntfs(algorithm)))
        #expect(try image.volume.dataRanges(of: node) == [0 ..< UInt64(expected.count)])
        // WofCompressedData is the data, compressed: hidden as WOF hides it, still readable by name.
        #expect(try image.volume.namedStreams(of: node).isEmpty)
        #expect(!(try image.volume.extendedAttributes(of: node)).contains { $0.name.hasPrefix("user.ntfs.stream.") })
        let stream = try image.volume.lookup(try FileName(validating: "\(algorithm):WofCompressedData"), in: image.volume.rootNode)
        #expect(try image.volume.contents(stream) == image.sourceBytes("\(algorithm).stream"))
        // Random access: reads starting and ending inside chunks, across chunk boundaries.
        var generator = SystemRandomNumberGenerator()
        for _ in 0 ..< 200 {
            let offset = Int.random(in: 0 ..< expected.count, using: &generator)
            let count = Int.random(in: 1 ... 70000, using: &generator)
            var buffer = [UInt8](repeating: 0, count: count)
            let read = try buffer.withUnsafeMutableBytes { try image.volume.read(node, at: UInt64(offset), into: $0) }
            #expect(Array(buffer.prefix(read)) == Array(expected[offset ..< min(expected.count, offset + count)]), "\(offset)+\(count)")
        }
    }

    @Test func smallAndEmptyWofFiles() throws {
        let image = try ReparseImage.get()
        let small = try image.volume.node(at: "small-lzx")
        #expect(try image.volume.contents(small) == image.sourceBytes("small"))
        #expect(try image.volume.contents(small) == image.libfsntfs("small-lzx"))
        let empty = try image.volume.node(at: "empty")
        #expect(try image.volume.attributes(of: empty).size == 0)
        #expect(try image.volume.data(empty).isEmpty)
    }

    /// A stub's own data is never served: the read names the tag; the file still lists and stats.
    @Test(arguments: [("dedup", "0x80000013"), ("cloud", "0x9000601A"), ("wimboot", "WIMBoot")])
    func stubsAreRefusedByName(_ name: String, _ expected: String) throws {
        let image = try ReparseImage.get()
        let node = try image.volume.node(at: name)
        #expect(try image.volume.entries(of: image.volume.rootNode).contains { $0.name.description == name })
        #expect(try image.volume.attributes(of: node).size == 1_000_000)
        let error = volumeError { () throws(VolumeError) in _ = try image.volume.data(node) }
        #expect(error?.kind == "unsupported", "\(String(describing: error))")
        #expect(error?.description.contains(expected) == true, "\(String(describing: error))")
        #expect(volumeError { () throws(VolumeError) in _ = try image.volume.dataRanges(of: node) }?.kind == "unsupported")
    }

    /// A cloud placeholder whose data is all here reads as its $DATA; one that Windows marks as
    /// not all here (OFFLINE, RECALL_ON_DATA_ACCESS) is refused like a dehydrated one.
    @Test func hydratedCloudFilesRead() throws {
        let image = try ReparseImage.get()
        #expect(try image.volume.contents(image.volume.node(at: "cloud-hydrated")) == image.sourceBytes("hydrated"))
        let offline = try image.volume.node(at: "cloud-offline")
        #expect(volumeError { () throws(VolumeError) in _ = try image.volume.data(offline) }?.kind == "unsupported")
        // ntfs-3g cannot set RECALL_ON_DATA_ACCESS (0x400000): set it in $STANDARD_INFORMATION
        // of a copy (file attributes at 0x20 of the value).
        let copy = image.directory.file("recall.img")
        try FileManager.default.copyItem(atPath: image.image, toPath: copy)
        let record = try image.volume.node(at: "cloud-recall")
        let recordOffset = try NTFSImage.recordOffset(copy, record)
        let attribute = try NTFSImage.attributeOffset(copy, record: record, type: 0x10)
        let header = try NTFSImage.bytes(copy, at: recordOffset + UInt64(attribute), count: 0x18)
        let valueOffset = UInt64(attribute) + NTFSImage.le(header, 0x14, 2)
        let flags = try NTFSImage.bytes(copy, at: recordOffset + valueOffset + 0x20, count: 4)
        #expect(NTFSImage.le(flags, 0, 4) & 0x40_0000 == 0)
        try NTFSImage.patch(copy, at: recordOffset + valueOffset + 0x22, [flags[2] | 0x40])
        let patched = try openVolume(copy)
        let recall = try patched.node(at: "cloud-recall")
        let error = volumeError { () throws(VolumeError) in _ = try patched.data(recall) }
        #expect(error?.kind == "unsupported" && error?.description.contains("0x9000601A") == true, "\(String(describing: error))")
        #expect(try patched.contents(patched.node(at: "cloud-hydrated")) == image.sourceBytes("hydrated"))
    }

    /// WSL's symbolic links (version 2, UTF-8 target) are symlinks with the target as written.
    @Test func wslSymlinks() throws {
        let image = try ReparseImage.get()
        let node = try image.volume.node(at: "wsl-link")
        #expect(try image.volume.entries(of: image.volume.rootNode).first { $0.node == node }?.kind == .symlink)
        #expect(try image.volume.attributes(of: node).kind == .symlink)
        #expect(try image.volume.symlinkTarget(of: node) == Array(ReparseImage.wslTarget.utf8))
    }

    @Test func aDamagedChunkTableIsCorruptionNotACrash() throws {
        let image = try ReparseImage.get()
        let copy = image.directory.file("damaged.img")
        try FileManager.default.copyItem(atPath: image.image, toPath: copy)
        // istat names the stream's attribute; its first cluster starts with the chunk table.
        let record = try Shell.check("ifind", ["-n", "/xpress4k", copy]).trimmingCharacters(in: .whitespacesAndNewlines)
        let line = try #require(try Shell.check("istat", [copy, record]).split(separator: "\n").first { $0.contains("Name: WofCompressedData") })
        let marker = try #require(line.firstRange(of: "(128-"))
        let attribute = "128-" + line[marker.upperBound...].prefix { $0.isNumber }
        let inode = try #require(UInt64(record))
        let cluster = try #require(try NTFSImage.clusters(copy, inode, attribute: attribute).first)
        // Chunk 1 said to start past the stream's end.
        try NTFSImage.patch(copy, at: cluster * 4096, [0xFF, 0xFF, 0xFF, 0x7F])
        let volume = try openVolume(copy)
        let node = try volume.node(at: "xpress4k")
        let error = volumeError { () throws(VolumeError) in _ = try volume.data(node) }
        #expect(error?.kind == "corrupt" && error?.description.contains("WOF chunk table") == true, "\(String(describing: error))")
        // The other files are untouched.
        #expect(try volume.contents(try volume.node(at: "lzx")) == image.sourceBytes("data"))
    }
}
