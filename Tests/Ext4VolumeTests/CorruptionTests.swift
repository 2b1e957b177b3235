import Foundation
#if canImport(Glibc)
import Glibc
#endif
import BlockDevices
import Ext4Volume
import TestSupport
import Testing
import VolumeModel

/// Damaged volumes: each damage gives a clear error about what is wrong and where, never a
/// trap (which would end the process) nor a hang.
@Suite(.timeLimit(.minutes(2))) struct CorruptionTests {
    static let blockSize: UInt64 = 1024

    /// A small 1 KiB-block ext4 with a two-level extent tree, a two-extent file and a subdirectory.
    struct Subject {
        let directory: TemporaryDirectory
        let image: String

        init(checksums: Bool) throws {
            directory = try TemporaryDirectory("rpfs-ext4-corrupt")
            image = try makeImage(in: directory, size: "2M",
                                  options: ["-t", "ext4", "-b", "1024", "-N", "64"] + (checksums ? [] : ["-O", "^metadata_csum"])) { source in
                try Posix.mkdir(join(source, bytes("d")))
                try Posix.writeFile(join(source, bytes("d/file")), content(5000, seed: 1))
                try Posix.writeFile(join(source, bytes("d/victim")), size: 11264,
                                    pieces: [(0, [UInt8](repeating: 0x41, count: 1024)), (10240, [UInt8](repeating: 0x42, count: 1024))])
                try Posix.writeFile(join(source, bytes("d/frag")), size: 400 * 2048,
                                    pieces: (0 ..< 400).map { (UInt64($0) * 2048, content(1024, seed: UInt64($0))) })
                try Posix.mkdir(join(source, bytes("d/sub")))
                try Posix.writeFile(join(source, bytes("d/sub/inner")), bytes("inner"))
                try Posix.writeFile(join(source, bytes("d/sub/other")), bytes("other"))
                try Posix.symlink(bytes(String(repeating: "s", count: 100)), at: join(source, bytes("d/slow-link")))
                try Shell.check("setfattr", ["-n", "user.note", "-v", String(repeating: "n", count: 300), text(join(source, bytes("d/file")))])
            }
        }

        func volume() throws(VolumeError) -> Ext4Volume { try openVolume(image, name: "damaged") }
        func node(_ path: String) throws -> UInt64 { try volume().node(at: path) }
        func inodeAt(_ path: String) throws -> UInt64 { try inodeOffset(image, node(path), blockSize: blockSize, in: directory) }
        func block(_ path: String, _ logical: UInt64 = 0) throws -> UInt64 {
            try physicalBlock(image, path, logical: logical, in: directory) * blockSize
        }
        func patch(_ offset: UInt64, _ bytes: [UInt8]) throws { try Posix.patch(image, at: offset, bytes) }
    }

    static func expectCorrupt(_ error: VolumeError?, mentioning words: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(error?.kind == "corrupt", "\(String(describing: error))", sourceLocation: sourceLocation)
        for word in words {
            #expect(error?.description.contains(word) == true, "'\(word)' in \(String(describing: error))", sourceLocation: sourceLocation)
        }
    }

    @Test func damagedSuperblockMagic() throws {
        let subject = try Subject(checksums: true)
        try subject.patch(1024 + 0x38, [0x00, 0x00])
        Self.expectCorrupt(volumeError { () throws(VolumeError) in try subject.volume() }, mentioning: ["damaged", "0xEF53"])
    }

    @Test func superblockChecksumMismatch() throws {
        let subject = try Subject(checksums: true)
        try subject.patch(1024 + 0x78, bytes("tampered"))
        Self.expectCorrupt(volumeError { () throws(VolumeError) in try subject.volume() }, mentioning: ["checksum"])
    }

    @Test(arguments: [false, true])
    func zeroedInodeTableBlocks(checksums: Bool) throws {
        let subject = try Subject(checksums: checksums)
        let fileInode = try subject.inodeAt("d/file")
        let rootInode = try inodeOffset(subject.image, 2, blockSize: Self.blockSize, in: subject.directory)
        #expect(fileInode / Self.blockSize != rootInode / Self.blockSize, "different inode table blocks")

        // The block holding d/file: the directory still lists it; the inode itself is gone.
        try subject.patch(fileInode / Self.blockSize * Self.blockSize, [UInt8](repeating: 0, count: Int(Self.blockSize)))
        let volume = try subject.volume()
        let directory = try volume.node(at: "d")
        let entry = try #require(try volume.entries(of: directory).first { $0.name.description == "file" })
        Self.expectCorrupt(volumeError { () throws(VolumeError) in try volume.attributes(of: entry.node) },
                           mentioning: ["damaged", "inode \(entry.node)", "not in use"])
        Self.expectCorrupt(volumeError { () throws(VolumeError) in try volume.read(entry.node, at: 0, count: 10) }, mentioning: ["inode \(entry.node)"])

        // The block holding the root: the volume cannot be opened.
        try subject.patch(rootInode / Self.blockSize * Self.blockSize, [UInt8](repeating: 0, count: Int(Self.blockSize)))
        Self.expectCorrupt(volumeError { () throws(VolumeError) in try subject.volume() }, mentioning: ["inode 2"])
    }

    @Test(arguments: [false, true])
    func garbageExtentHeader(checksums: Bool) throws {
        let subject = try Subject(checksums: checksums)
        let node = try subject.node("d/file")
        try subject.patch(try subject.inodeAt("d/file") + 0x28, [0xDE, 0xAD, 0xBE, 0xEF, 0x01, 0x02, 0x03, 0x04])
        let volume = try subject.volume()
        let error = volumeError { () throws(VolumeError) in try volume.read(node, at: 0, count: 10) }
        Self.expectCorrupt(error, mentioning: ["inode \(node)", checksums ? "checksum" : "extent"])
    }

    @Test(arguments: [false, true])
    func garbageDirectoryBlock(checksums: Bool) throws {
        let subject = try Subject(checksums: checksums)
        let node = try subject.node("d/sub")
        var random = SeededBytes(seed: 5)
        try subject.patch(try subject.block("d/sub"), random.bytes(Int(Self.blockSize)))
        let volume = try subject.volume()
        Self.expectCorrupt(volumeError { () throws(VolumeError) in try volume.entries(of: node) }, mentioning: ["directory inode \(node)"])
        Self.expectCorrupt(volumeError { () throws(VolumeError) in try volume.lookup(FileName(validating: "inner"), in: node) },
                           mentioning: ["directory inode \(node)"])
        #expect(try volume.readAll(volume.node(at: "d/file")) == content(5000, seed: 1), "the rest of the volume reads")
    }

    /// Extent damage that libext2fs passes through and rpfs must catch: blocks outside the
    /// volume, extents out of order.
    @Test func extentsOutsideTheVolumeOrOutOfOrder() throws {
        let subject = try Subject(checksums: false)
        let victim = try subject.node("d/victim")
        let inode = try subject.inodeAt("d/victim")
        // i_block: 12-byte header, then 12-byte extents (ee_block, ee_len, ee_start_hi, ee_start_lo).
        let original = try Posix.readFile(bytes(subject.image), at: inode + 0x28, count: 36)
        #expect(original.prefix(2) == [0x0A, 0xF3], "extent header magic")

        try subject.patch(inode + 0x28 + 12 + 6, [0xFF, 0xFF])
        Self.expectCorrupt(volumeError { () throws(VolumeError) in try subject.volume().read(victim, at: 0, count: 10) },
                           mentioning: ["inode \(victim)", "outside the volume"])

        try subject.patch(inode + 0x28, original)
        try subject.patch(inode + 0x28 + 24, [0, 0, 0, 0])
        Self.expectCorrupt(volumeError { () throws(VolumeError) in try subject.volume().read(victim, at: 0, count: 10) },
                           mentioning: ["inode \(victim)", "out of order"])

        try subject.patch(inode + 0x28, original)
        #expect(try subject.volume().readAll(victim) == [UInt8](repeating: 0x41, count: 1024) + [UInt8](repeating: 0, count: 9216) + [UInt8](repeating: 0x42, count: 1024))
    }

    /// An index block that points at itself: the tree repeats, and must end in an error.
    @Test func extentTreeThatPointsAtItself() throws {
        let subject = try Subject(checksums: false)
        let frag = try subject.node("d/frag")
        let stat = try Tool.debugfs(subject.image, ["stat d/frag"], in: subject.directory)
        let indexBlock = try #require(stat.range(of: "(ETB0):").map { UInt64(stat[$0.upperBound...].prefix { $0.isNumber }) ?? 0 })
        #expect(indexBlock > 0)
        let offset = indexBlock * Self.blockSize
        // First index entry: ei_block (4), ei_leaf_lo (4): point it back at this block.
        try subject.patch(offset + 12 + 4, withUnsafeBytes(of: UInt32(indexBlock).littleEndian, Array.init))
        let volume = try subject.volume()
        let error = volumeError { () throws(VolumeError) in try volume.readAll(frag) }
        Self.expectCorrupt(error, mentioning: ["inode \(frag)"])
    }

    @Test func invalidNamesAndInodeNumbersInDirectories() throws {
        let subject = try Subject(checksums: false)
        let sub = try subject.node("d/sub")
        let block = try subject.block("d/sub")
        let original = try Posix.readFile(bytes(subject.image), at: block, count: Int(Self.blockSize))
        let nameAt = try #require(Self.find(bytes("inner"), in: original))

        try subject.patch(block + UInt64(nameAt) + 2, [UInt8(ascii: "/")])
        let slash = volumeError { () throws(VolumeError) in try subject.volume().entries(of: sub) }
        Self.expectCorrupt(slash, mentioning: ["directory inode \(sub)", "in/er"])

        try subject.patch(block + UInt64(nameAt) + 2, [0])
        Self.expectCorrupt(volumeError { () throws(VolumeError) in try subject.volume().entries(of: sub) },
                           mentioning: ["directory inode \(sub)", "\\x00"])

        // The entry's inode field (8 bytes before the name) past the inode count.
        try subject.patch(block, original)
        try subject.patch(block + UInt64(nameAt) - 8, [0xFF, 0xFF, 0xFF, 0x0F])
        Self.expectCorrupt(volumeError { () throws(VolumeError) in try subject.volume().entries(of: sub) },
                           mentioning: ["directory inode \(sub)", "outside"])
    }

    /// The image ends before the blocks the volume uses (a short partition or image).
    @Test func truncatedVolume() throws {
        let subject = try Subject(checksums: true)
        let bytes = try Posix.readFile(Array(subject.image.utf8))
        let file = try subject.node("d/file")
        let cut = Int(try subject.block("d/file"))
        let truncated = MemoryDevice(bytes: Array(bytes.prefix(cut)))
        do {
            let volume = try Ext4Volume.open(truncated, name: "truncated")
            Self.expectCorrupt(volumeError { () throws(VolumeError) in try volume.readAll(file) }, mentioning: ["outside the volume"])
        } catch {
            Self.expectCorrupt(error, mentioning: ["outside the volume"])
        }
    }

    // MARK: - Random damage

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        return (0 ... haystack.count - needle.count).first { Array(haystack[$0 ..< $0 + needle.count]) == needle }
    }

    /// Every block that holds metadata: superblock, descriptors, bitmaps, inode table (the
    /// start of the volume), directory blocks, extent index blocks, attribute blocks.
    static func metadataRanges(_ subject: Subject) throws -> [Range<Int>] {
        let header = try Tool.run("dumpe2fs", [subject.image]).text
        let table = try #require(header.range(of: "Inode table at ").map { header[$0.upperBound...].split(separator: " ")[0] })
        let tableEnd = try #require(Int(table.split(separator: "-").last ?? ""))
        var ranges = [1024 ..< (tableEnd + 1) * Int(blockSize)]
        let volume = try subject.volume()
        let nodes = try volume.walk()
        let requests = nodes.values.map { "stat <\($0.entry.node)>" } + ["stat <2>"]
        let stats = try Tool.debugfs(subject.image, requests, in: subject.directory)
        for line in stats.split(separator: "\n") {
            for match in line.split(separator: ",") {
                let piece = match.trimmingCharacters(in: .whitespaces)
                if piece.hasPrefix("(ETB") || piece.hasPrefix("(IND") || piece.hasPrefix("(DIND"),
                   let colon = piece.firstIndex(of: ":"), let block = Int(piece[piece.index(after: colon)...]) {
                    ranges.append(block * Int(blockSize) ..< (block + 1) * Int(blockSize))
                }
            }
            if line.hasPrefix("File ACL: "), let block = Int(line.dropFirst(10).prefix { $0.isNumber }), block > 0 {
                ranges.append(block * Int(blockSize) ..< (block + 1) * Int(blockSize))
            }
        }
        for node in nodes.values where node.attributes.kind == .directory {
            let block = Int(try physicalBlock(subject.image, "<\(node.entry.node)>", logical: 0, in: subject.directory))
            ranges.append(block * Int(blockSize) ..< (block + 1) * Int(blockSize))
        }
        return ranges
    }

    /// Everything a frontend does with a volume, on every node reachable from the root, with
    /// bounds so a damaged tree or size cannot make the test itself slow. Returns the files
    /// that read completely (those up to 4 MiB).
    @discardableResult
    static func exercise(_ device: MemoryDevice) -> [UInt64: [UInt8]] {
        guard let volume = try? Ext4Volume.open(device, name: "mutant") else { return [:] }
        _ = volume.info
        var pending = [volume.rootNode]
        var seen: Set<UInt64> = [volume.rootNode]
        var contents: [UInt64: [UInt8]] = [:]
        var budget = 500
        while let directory = pending.popLast(), budget > 0 {
            guard let entries = try? volume.entries(of: directory) else { continue }
            for entry in entries.prefix(100) {
                budget -= 1
                _ = try? volume.lookup(entry.name, in: directory)
                _ = try? volume.extendedAttributes(of: entry.node)
                let size = (try? volume.attributes(of: entry.node))?.size ?? 0
                switch entry.kind {
                case .directory:
                    if seen.insert(entry.node).inserted { pending.append(entry.node) }
                case .symlink:
                    _ = try? volume.symlinkTarget(of: entry.node)
                default:
                    _ = try? volume.dataRanges(of: entry.node)
                    if size > 0 { _ = try? volume.read(entry.node, at: size - 1, count: 4096) }
                    if size <= 4 << 20, let data = try? volume.readAll(entry.node, chunk: 65536) {
                        #expect(UInt64(data.count) == size, "inode \(entry.node) read \(data.count) of \(size) bytes")
                        contents[entry.node] = data
                    } else {
                        _ = try? volume.read(entry.node, at: size / 2, count: 8192)
                    }
                }
            }
        }
        return contents
    }

    /// Group descriptors are what libext2fs trusts to find every inode table: one pointing
    /// outside the volume must fail the open clearly. (libext2fs checks the descriptor's
    /// bounds before its checksum, so metadata_csum changes nothing here.)
    @Test(arguments: [false, true])
    func groupDescriptorPointingOutsideTheVolume(checksums: Bool) throws {
        let subject = try Subject(checksums: checksums)
        // 1 KiB blocks: the descriptors are block 2; bg_inode_table_lo is at 0x08.
        try subject.patch(2 * Self.blockSize + 0x08, [0xF0, 0xFF, 0xFF, 0x0F])
        Self.expectCorrupt(volumeError { () throws(VolumeError) in try subject.volume() }, mentioning: ["damaged", "group descriptor", "inode table"])
    }

    /// Damage anywhere the volume holds something (superblock, descriptors, bitmaps, inode
    /// table, journal, directories, extent blocks, file data), of every kind `ImageDamage`
    /// makes; the whole tree is walked and every file read. Damage must stay local: most
    /// files still read with their own bytes.
    @Test(arguments: [false, true])
    func randomDamageAnywhereStaysLocal(checksums: Bool) throws {
        let subject = try Subject(checksums: checksums)
        let pristine = try Posix.readFile(Array(subject.image.utf8))
        let original = Self.exercise(MemoryDevice(bytes: pristine))
        #expect(original.count >= 5)
        let sweep = ImageDamage.sweep(pristine, original: original, blockSize: Int(Self.blockSize), rounds: 150, seed: checksums ? 31 : 32) { bytes in
            let contents = Self.exercise(MemoryDevice(bytes: bytes))
            return contents.isEmpty ? nil : contents
        }
        #expect(sweep.problems.isEmpty, "\(sweep.problems)")
    }

    /// Inputs the `ext4` fuzz target (Fuzz/) once crashed on, kept as regressions.
    @Test func fuzzRegressionInputs() throws {
        for (_, bytes) in try FuzzRegressions.inputs("ext4") {
            Self.exercise(MemoryDevice(bytes: bytes))
        }
    }

    @Test(arguments: [false, true])
    func randomMetadataMutationsNeverTrap(checksums: Bool) throws {
        let subject = try Subject(checksums: checksums)
        let original = try Posix.readFile(Array(subject.image.utf8))
        let ranges = try Self.metadataRanges(subject)
        var random = SeededBytes(seed: checksums ? 77 : 78)
        for iteration in 0 ..< 200 {
            var bytes = original
            let mutations = 1 + random.int(below: 8)
            for _ in 0 ..< mutations {
                let range = ranges[random.int(below: ranges.count)]
                let offset = range.lowerBound + random.int(below: range.count)
                switch random.int(below: 5) {
                case 0: bytes[offset] = 0
                case 1: bytes[offset] = 0xFF
                case 2: bytes[offset] &+= 1
                case 3: bytes[offset] ^= UInt8(1 << random.int(below: 8))
                default: bytes[offset] = UInt8(truncatingIfNeeded: random.next())
                }
            }
            _ = iteration
            Self.exercise(MemoryDevice(bytes: bytes))
        }
        // The unmutated image exercises cleanly.
        Self.exercise(MemoryDevice(bytes: original))
    }
}
