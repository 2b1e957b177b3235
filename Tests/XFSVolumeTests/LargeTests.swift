import Foundation
import Synchronization
import TestSupport
import Testing
import VolumeModel
import XFSVolume

/// Directories in every form (short-form, block, leaf, node, B-tree) and a file whose map is
/// a B-tree, on one image built once: free space is cut into single blocks first, so the
/// large directory and file are fragmented past what an inode's fork holds. xfs_db says
/// which form each one took; the kernel's mount says what they hold.
@Suite(.timeLimit(.minutes(8))) struct LargeTests {
    static let fill = #"""
    import os, sys
    m = sys.argv[1]
    os.mkdir(os.path.join(m, 'frag'))
    for i in range(16000):
        with open(os.path.join(m, 'frag', 'f%d' % i), 'wb') as f: f.write(b'x' * 4096)
    for i in range(0, 16000, 2): os.unlink(os.path.join(m, 'frag', 'f%d' % i))
    for count in (1, 10, 400, 1000, 5000, 80000):
        d = os.path.join(m, 'd%d' % count); os.mkdir(d)
        for i in range(count):
            open(os.path.join(d, 'entry-with-a-longer-name-%06d' % i), 'w').close()
    for i in range(0, 80000, 3): os.unlink(os.path.join(m, 'd80000', 'entry-with-a-longer-name-%06d' % i))
    """#

    @Test func everyForm() throws {
        let directory = try TemporaryDirectory("rpfs-xfs-large")
        let image = try XFSImageBuilder.make(in: directory, size: 600 << 20, mkfsOptions: ["-n", "size=16384"],
                                             fill: Self.fill + "\n" + Fill.everyOtherBlock("fragmented", blocks: 8000, blockSize: 4096))
        let volume = try openVolume(image)
        #expect(volume.info.directoryBlockSize == 16384)
        #expect(try volume.info.log == .clean && LogTests.logprintState(image) == "clean")

        // The forms these sizes take with 16 KiB directory blocks; how fragmented the middle
        // ones end up (extents or B-tree) is the allocator's choice.
        let forms = try XFSDebug.forms(image, inodes: ["d1", "d10", "d400", "d1000", "d5000", "d80000", "fragmented"].map { try volume.node(at: $0) })
        #expect(forms.map(\.form) == [.shortForm, .block, .leaf, .leaf, .node, .node, .extents], "\(forms)")
        #expect(forms.first?.format == "local" && forms.dropFirst().allSatisfy { $0.format != "local" }, "\(forms)")
        #expect(forms.suffix(2).allSatisfy { $0.format == "btree" }, "\(forms)")

        for count in [1, 10, 400, 1000, 5000] {
            #expect(try volume.entries(of: volume.node(at: "d\(count)")).count == count)
        }
        #expect(try volume.entries(of: volume.node(at: "d80000")).count == 80000 - 26667)
        let fragmented = try volume.node(at: "fragmented")
        let ranges = try volume.dataRanges(of: fragmented)
        #expect(ranges.count == 4000 && ranges.allSatisfy { $0.count == 4096 && $0.lowerBound % 8192 == 0 })
        try expectSameTree(volume, image, in: directory)

        // Eight threads at once on a fresh volume (cold caches): the same answers.
        let fresh = try openVolume(image)
        let big = try volume.node(at: "d80000")
        let names = try volume.entries(of: big).map(\.name)
        let bytes = try volume.contents(fragmented)
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            let same = (try? fresh.entries(of: big).map(\.name)) == names && (try? fresh.contents(fragmented, piece: 4096 + thread * 1000)) == bytes
            if !same { failures.withLock { $0 += 1 } }
        }
        #expect(failures.withLock { $0 } == 0)
    }
}

/// xfs_db, xfsprogs' own reader, asked what form an inode's data fork and a directory took.
enum XFSDebug {
    enum DirectoryForm: Equatable { case shortForm, block, leaf, node, extents }

    struct Form: Equatable {
        let format: String
        let form: DirectoryForm
    }

    /// A directory's form from its fork format and where its blocks lie: a leaf block at
    /// 32 GiB (XFS_DIR2_LEAF_OFFSET) makes it a leaf directory, free-index blocks at 64 GiB a
    /// node directory, neither a block directory. Files read as `.extents`.
    static func forms(_ image: String, inodes: [UInt64]) throws -> [Form] {
        try inodes.map { inode in
            let core = try Shell.check("xfs_db", ["-r", "-c", "inode \(inode)", "-c", "print core.format core.mode", image])
            let format = core.split(separator: "\n").first { $0.hasPrefix("core.format") }?.split(separator: "(").last?.dropLast() ?? ""
            let isDirectory = core.contains("core.mode = 04")
            guard isDirectory else { return Form(format: String(format), form: .extents) }
            guard format != "local" else { return Form(format: "local", form: .shortForm) }
            let map = try Shell.check("xfs_db", ["-r", "-c", "inode \(inode)", "-c", "bmap", image])
            let offsets = map.split(separator: "\n").compactMap { line -> UInt64? in
                let words = line.split(separator: " ")
                guard let index = words.firstIndex(of: "offset"), index + 1 < words.count else { return nil }
                return UInt64(words[index + 1])
            }
            let blockSize: UInt64 = 4096
            let leafBlock = (32 << 30) / blockSize
            let freeBlock = (64 << 30) / blockSize
            let form: DirectoryForm = offsets.contains { $0 >= freeBlock } ? .node : offsets.contains { $0 >= leafBlock } ? .leaf : .block
            return Form(format: String(format), form: form)
        }
    }

    /// The filesystem block where an inode's data fork maps its logical block 0.
    static func firstBlock(_ image: String, inode: UInt64) throws -> UInt64 {
        let map = try Shell.check("xfs_db", ["-r", "-c", "inode \(inode)", "-c", "bmap", image])
        for line in map.split(separator: "\n") {
            let words = line.split(separator: " ")
            if let offset = words.firstIndex(of: "offset"), words[offset + 1] == "0",
               let start = words.firstIndex(of: "startblock"), let block = UInt64(words[start + 1]) { return block }
        }
        throw TestFailure("xfs_db bmap of inode \(inode): no block at offset 0 in \(map)")
    }

    /// "local" for attributes in the inode, else the magic of attribute block 0: 0x3bee a
    /// leaf, 0x3ebe a dabtree node.
    static func attributeForm(_ image: String, inode: UInt64) throws -> String {
        let format = try Shell.check("xfs_db", ["-r", "-c", "inode \(inode)", "-c", "print core.aformat", image])
        if format.contains("(local)") { return "local" }
        let block = try Shell.check("xfs_db", ["-r", "-c", "inode \(inode)", "-c", "ablock 0", "-c", "print hdr.info.hdr.magic", image])
        return String(block.split(separator: "=").last ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
