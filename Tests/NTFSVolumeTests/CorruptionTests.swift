import BlockDevices
import Foundation
@testable import NTFSVolume
import TestSupport
import Testing
import VolumeModel

/// Damaged volumes give clear errors about what is wrong and where, fail only the file or
/// directory concerned, and never trap or hang.
@Suite(.timeLimit(.minutes(3))) struct CorruptionTests {
    struct Subject {
        let directory: TemporaryDirectory
        let image: String

        init() throws {
            directory = try TemporaryDirectory("rpfs-ntfs-corrupt")
            let script = """
            M="$1"
            printf intact > "$M/intact"
            head -c 50000 /dev/urandom > "$M/victim"
            mkdir "$M/dir"; for i in $(seq 1 300); do printf x > "$M/dir/entry-$i"; done
            mkdir "$M/other"; printf y > "$M/other/file"
            printf linked > "$M/target"; for i in $(seq 1 120); do ln "$M/target" "$M/link-$i"; done
            """
            image = try NTFSImageBuilder.make(in: directory, size: 16 << 20, cluster: 4096, fill: script)
        }

        func volume() throws(VolumeError) -> NTFSVolume { try openVolume(image, name: "damaged") }
        func patch(_ offset: UInt64, _ bytes: [UInt8]) throws { try NTFSImage.patch(image, at: offset, bytes) }
        func record(_ path: String) throws -> (node: UInt64, offset: UInt64) {
            let node = try volume().node(at: path)
            return (node, try NTFSImage.recordOffset(image, node))
        }
    }

    static func expectCorrupt(_ error: VolumeError?, mentioning words: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(error?.kind == "corrupt", "\(String(describing: error))", sourceLocation: sourceLocation)
        for word in words {
            #expect(error?.description.contains(word) == true, "'\(word)' in \(String(describing: error))", sourceLocation: sourceLocation)
        }
    }

    /// What stays readable after damage elsewhere.
    static func expectIntact(_ volume: NTFSVolume, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect((try? volume.contents(volume.node(at: "intact"))) == Array("intact".utf8), sourceLocation: sourceLocation)
        #expect((try? volume.contents(volume.node(at: "other/file"))) == Array("y".utf8), sourceLocation: sourceLocation)
    }

    @Test(arguments: [
        (UInt64(3), [UInt8](repeating: 0x41, count: 8), "OEM id"),
        (0x0B, [0xB8, 0x0B], "bytes per sector"),
        (0x0D, [0x03], "sectors per cluster"),
        (0x30, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0], "MFT cluster"),
        (0x40, [0xE0], "file record size"),
        (0x1FE, [0, 0], "signature"),
    ])
    func brokenBootSector(_ offset: UInt64, _ bytes: [UInt8], _ word: String) throws {
        let subject = try Subject()
        try subject.patch(offset, bytes)
        Self.expectCorrupt(volumeError { () throws(VolumeError) in _ = try subject.volume() }, mentioning: ["damaged", "boot sector", word])
    }

    @Test func brokenFixupFailsOneFile() throws {
        let subject = try Subject()
        let victim = try subject.record("victim")
        try subject.patch(victim.offset + 510, [0x12, 0x34])
        let volume = try subject.volume()
        Self.expectCorrupt(volumeError { () throws(VolumeError) in _ = try volume.attributes(of: victim.node) },
                           mentioning: ["MFT record \(victim.node)", "update sequence"])
        Self.expectIntact(volume)
        #expect(try volume.entries(of: volume.rootNode).contains { $0.name.description == "victim" })
    }

    @Test func badAttributeLength() throws {
        let subject = try Subject()
        let victim = try subject.record("victim")
        let data = try NTFSImage.attributeOffset(subject.image, record: victim.node, type: 0x80)
        try subject.patch(victim.offset + UInt64(data) + 4, [0x08, 0x30, 0x00, 0x00])
        let volume = try subject.volume()
        Self.expectCorrupt(volumeError { () throws(VolumeError) in _ = try volume.attributes(of: victim.node) },
                           mentioning: ["MFT record \(victim.node)", "attribute length"])
        Self.expectIntact(volume)
    }

    @Test func dataRunPastVolumeEnd() throws {
        let subject = try Subject()
        let victim = try subject.record("victim")
        let data = try NTFSImage.attributeOffset(subject.image, record: victim.node, type: 0x80)
        let header = try NTFSImage.bytes(subject.image, at: victim.offset + UInt64(data), count: 0x48)
        let runs = victim.offset + UInt64(data) + NTFSImage.le(header, 0x20, 2)
        // One run of 13 clusters (the file's size) at cluster 0x7FFFFF.
        try subject.patch(runs, [0x31, 13, 0xFF, 0xFF, 0x7F, 0x00])
        let volume = try subject.volume()
        Self.expectCorrupt(volumeError { () throws(VolumeError) in _ = try volume.data(victim.node) },
                           mentioning: ["MFT record \(victim.node)", "outside the volume"])
        Self.expectIntact(volume)
    }

    @Test func indexRecordWithBadFixup() throws {
        let subject = try Subject()
        let directory = try subject.volume().node(at: "dir")
        let cluster = try #require(try NTFSImage.clusters(subject.image, directory, attribute: "160-").first)
        try subject.patch(cluster * 4096 + 1022, [0xEE, 0xEE])
        let volume = try subject.volume()
        Self.expectCorrupt(volumeError { () throws(VolumeError) in _ = try volume.entries(of: directory) },
                           mentioning: ["directory record \(directory)", "update sequence"])
        Self.expectIntact(volume)
    }

    @Test func attributeListLoop() throws {
        let subject = try Subject()
        let target = try subject.volume().node(at: "target")
        let cluster = try #require(try NTFSImage.clusters(subject.image, target, attribute: "32-").first)
        let list = try NTFSImage.bytes(subject.image, at: cluster * 4096, count: 64)
        let firstLength = Int(NTFSImage.le(list, 4, 2))
        #expect(firstLength == 0x20 && NTFSImage.le(list, firstLength + 4, 2) == 0x20)
        // The second entry names the first entry's attribute again.
        try subject.patch(cluster * 4096 + UInt64(firstLength), Array(list[0 ..< firstLength]))
        let volume = try subject.volume()
        Self.expectCorrupt(volumeError { () throws(VolumeError) in _ = try volume.attributes(of: target) },
                           mentioning: ["record \(target) $ATTRIBUTE_LIST", "listed twice"])
        Self.expectIntact(volume)
    }

    @Test func encryptedFileIsRefused() throws {
        let subject = try Subject()
        let victim = try subject.record("victim")
        let data = try NTFSImage.attributeOffset(subject.image, record: victim.node, type: 0x80)
        // The $DATA attribute's encrypted flag, as EFS sets it.
        try subject.patch(victim.offset + UInt64(data) + 0x0C, [0x00, 0x40])
        let volume = try subject.volume()
        let error = volumeError { () throws(VolumeError) in _ = try volume.data(victim.node) }
        #expect(error?.kind == "refused" && error?.description.contains("EFS") == true, "\(String(describing: error))")
        #expect(try volume.entries(of: volume.rootNode).contains { $0.node == victim.node })
        #expect(try volume.attributes(of: victim.node).size == 50000)
    }

    /// Everything a frontend does, on every node reachable from the root (bounded, so a
    /// damaged tree cannot make the test slow): returns the files that read completely.
    static func exercise(_ volume: NTFSVolume) -> [UInt64: [UInt8]] {
        var pending = [volume.rootNode]
        var visited = Set<UInt64>()
        var contents: [UInt64: [UInt8]] = [:]
        while let node = pending.popLast(), visited.count < 2000 {
            guard visited.insert(node).inserted else { continue }
            let size = (try? volume.attributes(of: node))?.size
            _ = try? volume.extendedAttributes(of: node)
            _ = try? volume.symlinkTarget(of: node)
            _ = try? volume.dataRanges(of: node)
            if let data = try? volume.data(node) {
                #expect(UInt64(data.count) == size, "record \(node) read \(data.count) of \(String(describing: size)) bytes")
                contents[node] = data
            }
            if let entries = try? volume.entries(of: node) {
                pending += entries.map(\.node)
                if let first = entries.first { _ = try? volume.lookup(first.name, in: node) }
            }
        }
        return contents
    }

    /// Random byte changes in the MFT and the directory index: every call either answers or
    /// throws a `VolumeError`.
    @Test func randomMutationsNeverTrap() throws {
        let subject = try Subject()
        let pristine = [UInt8](try Data(contentsOf: URL(fileURLWithPath: subject.image)))
        let mftStart = Int(try NTFSImage.recordOffset(subject.image, 0))
        let dir = try subject.volume().node(at: "dir")
        let indexStart = Int(try #require(try NTFSImage.clusters(subject.image, dir, attribute: "160-").first)) * 4096
        var random = SeededBytes(seed: 20240601)
        var opened = 0
        for round in 0 ..< 300 {
            var bytes = pristine
            for _ in 0 ..< 1 + random.int(below: 12) {
                let region = round % 3 == 0 ? indexStart + random.int(below: 4096) : mftStart + random.int(below: 130 * 1024)
                bytes[region] = UInt8(truncatingIfNeeded: random.next())
            }
            guard let volume = try? NTFSVolume.open(MemoryDevice(bytes), name: "mutant") else { continue }
            opened += 1
            _ = Self.exercise(volume)
        }
        #expect(opened > 100)
    }

    /// Damage anywhere the volume holds something (boot sector, MFT, indexes, $LogFile,
    /// $Bitmap, file data), of every kind `ImageDamage` makes: the whole tree is walked and
    /// every file read. Damage must stay local: most files still read with their own bytes.
    @Test func randomDamageAnywhereStaysLocal() throws {
        let subject = try Subject()
        let pristine = [UInt8](try Data(contentsOf: URL(fileURLWithPath: subject.image)))
        let original = Self.exercise(try subject.volume())
        #expect(original.count > 300)
        let sweep = ImageDamage.sweep(pristine, original: original, blockSize: 4096, rounds: 120, seed: 99) { bytes in
            (try? NTFSVolume.open(MemoryDevice(bytes), name: "mutant")).map(Self.exercise)
        }
        #expect(sweep.problems.isEmpty, "\(sweep.problems)")
    }

    /// Inputs the `ntfs` fuzz target (Fuzz/) once crashed on, kept as regressions.
    @Test func fuzzRegressionInputs() throws {
        for (name, bytes) in try FuzzRegressions.inputs("ntfs") {
            guard let volume = try? NTFSVolume.open(MemoryDevice(bytes), name: name) else { continue }
            _ = Self.exercise(volume)
        }
    }
}
