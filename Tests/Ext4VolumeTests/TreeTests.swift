import Foundation
#if canImport(Glibc)
import Glibc
#endif
import BlockDevices
import Ext4Volume
import TestSupport
import Testing
import VolumeModel

/// One way of laying out the same tree: block size, ext flavour, block maps or extents,
/// inline data, inode size.
struct Variant: Sendable, CustomTestStringConvertible {
    let name: String
    let options: [String]
    let size: String
    let bigDirectory: Int
    let flavour: Ext4Info.Flavour
    let blockSize: UInt32
    var testDescription: String { name }

    static let all: [Variant] = [
        Variant(name: "ext4, 4 KiB blocks, 10,000-entry htree directory",
                options: ["-t", "ext4", "-b", "4096", "-N", "16384"], size: "96M", bigDirectory: 10_000, flavour: .ext4, blockSize: 4096),
        Variant(name: "ext4, 1 KiB blocks (two-level extent tree)",
                options: ["-t", "ext4", "-b", "1024"], size: "64M", bigDirectory: 0, flavour: .ext4, blockSize: 1024),
        Variant(name: "ext4 with inline_data",
                options: ["-t", "ext4", "-b", "4096", "-O", "inline_data"], size: "64M", bigDirectory: 0, flavour: .ext4, blockSize: 4096),
        Variant(name: "ext4 without extents (block maps)",
                options: ["-t", "ext4", "-b", "4096", "-O", "^extent,^64bit"], size: "64M", bigDirectory: 0, flavour: .ext4, blockSize: 4096),
        Variant(name: "ext3, 4 KiB blocks",
                options: ["-t", "ext3", "-b", "4096"], size: "64M", bigDirectory: 0, flavour: .ext3, blockSize: 4096),
        Variant(name: "ext2, 1 KiB blocks, 128-byte inodes",
                options: ["-t", "ext2", "-b", "1024", "-I", "128"], size: "64M", bigDirectory: 0, flavour: .ext2, blockSize: 1024),
    ]
}

/// The same source tree through mke2fs in each variant, read back through Ext4Volume and
/// compared with the source (lstat, readlink, getfattr, the bytes) and with The Sleuth Kit.
@Suite struct TreeTests {
    static let largeFile: UInt64 = 16 << 20

    @Test(arguments: Variant.all)
    func imageMatchesSourceAndSleuthKit(_ variant: Variant) throws {
        let directory = try TemporaryDirectory("rpfs-ext4-tree")
        let tree = try SourceTree.build(in: directory, bigDirectory: variant.bigDirectory)
        let image = directory.file("volume.img")
        try Tool.makeFilesystem(image, from: text(tree.root), size: variant.size, options: variant.options)
        let volume = try openVolume(image, name: variant.name)

        #expect(volume.info.flavour == variant.flavour)
        #expect(volume.info.blockSize == variant.blockSize)
        #expect(!volume.info.needsRecovery)

        let nodes = try volume.walk()
        let source = try Self.sourceNodes(tree.root)
        try Self.checkLayoutsExercised(variant, image: image, nodes: nodes, in: directory)
        var expectedPaths = Set(source.keys)
        expectedPaths.insert(bytes("lost+found"))
        #expect(Set(nodes.keys) == expectedPaths, "paths differ: only in image \(Set(nodes.keys).subtracting(expectedPaths).map(text)), only in source \(expectedPaths.subtracting(nodes.keys).map(text))")

        for (path, info) in source.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            guard let node = nodes[path] else { continue }
            try Self.compare(node, with: info, at: join(tree.root, path), tree: tree, volume: volume, nodes: nodes)
        }

        // Every name looks up to the node its directory lists (htree directories included).
        for (path, node) in nodes {
            let parentNode = Self.parent(of: path).flatMap { $0.isEmpty ? volume.rootNode : nodes[$0]?.entry.node }
            #expect(try volume.lookup(node.entry.name, in: try #require(parentNode)) == node.entry.node, "\(text(path))")
        }

        // Hard links: one inode, three names, link count 3.
        let original = try #require(nodes[bytes("links/original")])
        #expect(nodes[bytes("links/second")]?.entry.node == original.entry.node)
        #expect(nodes[bytes("links/third")]?.entry.node == original.entry.node)
        #expect(original.attributes.linkCount == 3)

        // Directory link counts: 2 + subdirectories, as mke2fs and the kernel keep them.
        for (path, node) in nodes where node.attributes.kind == .directory {
            let subdirectories = nodes.values.filter { $0.attributes.kind == .directory && Self.parent(of: $0.path) == path }.count
            #expect(node.attributes.linkCount == UInt32(2 + subdirectories), "\(text(path))")
        }

        // Extended attributes and ACLs against getfattr on the source.
        for (path, node) in nodes where !Self.isBulk(path) && String(validating: path, as: UTF8.self) != nil && path != bytes("lost+found") {
            let expected = try SourceTree.attributes(of: join(tree.root, path))
            let shown = try volume.extendedAttributes(of: node.entry.node)
            #expect(Dictionary(uniqueKeysWithValues: shown.map { ($0.name, $0.value) }) == expected, "\(text(path))")
            #expect(shown.map(\.name) == shown.map(\.name).sorted(), "stable order")
        }
        // The tools really did set them on the source (else the comparison above proves little).
        for path in tree.attributePaths where path.starts(with: join(tree.root, bytes("xattr"))) && !text(path).hasSuffix("link") {
            #expect(!(try SourceTree.attributes(of: path)).isEmpty, "\(text(path)) has attributes on the source")
        }
        let userAttributes = try volume.extendedAttributes(of: try #require(nodes[bytes("xattr/user")]).entry.node)
        #expect(userAttributes.map(\.name) == ["user.binary", "user.empty", "user.x"])
        let acl = try volume.extendedAttributes(of: try #require(nodes[bytes("xattr/acl")]).entry.node)
        #expect(acl.map(\.name) == ["system.posix_acl_access"])
        // Kernel VFS format: version 2, then (tag, perm, id) entries; ACL_USER 1234 with rwx.
        #expect(acl.first?.value.prefix(4) == [2, 0, 0, 0])
        #expect(acl.first.map { Self.containsACLEntry($0.value, tag: 0x02, permissions: 7, id: 1234) } == true)
        let defaults = try volume.extendedAttributes(of: try #require(nodes[bytes("xattr/default-acl")]).entry.node)
        #expect(defaults.map(\.name).contains("system.posix_acl_default"))

        // Sparse files: the data ranges are exactly the initialized blocks debugfs lists (cut at
        // the size), and they cover every piece written on the source.
        var sparseNodes: [UInt64: (path: [UInt8], size: UInt64, pieces: [(offset: UInt64, count: Int)])] = [:]
        for (absolute, layout) in tree.sparse {
            let path = Array(absolute.dropFirst(tree.root.count + 1))
            sparseNodes[try #require(nodes[path]).entry.node] = (path, layout.size, layout.pieces)
        }
        let reports = try Debugfs.stat(image, Array(sparseNodes.keys), in: directory)
        for (node, file) in sparseNodes {
            let ranges = try volume.dataRanges(of: node)
            let report = try #require(reports[node])
            if report.flags & 0x1000_0000 == 0 {
                #expect(ranges == Debugfs.dataRanges(report, blockSize: UInt64(variant.blockSize)), "\(text(file.path))")
            }
            for piece in file.pieces {
                let end = piece.offset + UInt64(piece.count)
                #expect(ranges.contains { $0.lowerBound <= piece.offset && $0.upperBound >= end }, "\(text(file.path)) piece at \(piece.offset)")
            }
            #expect(ranges.allSatisfy { $0.upperBound <= file.size && !$0.isEmpty })
            #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound < $1.lowerBound }, "sorted, disjoint, merged")
            #expect(try volume.attributes(of: node).allocatedBytes == report.blockCount * 512, "\(text(file.path)) i_blocks")
        }
        // The large holes stayed holes: a few KiB on disk for 70 MiB and 5 GiB files.
        for path in ["holes/far", "holes/beyond-4g"] {
            #expect(try #require(nodes[bytes(path)]).attributes.allocatedBytes < 1 << 20, "\(path)")
        }
        // A written file has one range covering all of it.
        let full = try #require(nodes[bytes("files/several-mib")])
        #expect(try volume.dataRanges(of: full.entry.node) == [0 ..< full.attributes.size])
        #expect(try volume.dataRanges(of: try #require(nodes[bytes("files/empty")]).entry.node) == [])

        // The Sleuth Kit on the same image: every name and inode, and the bytes of the files.
        let listing = try Tool.fls(image)
        let ours = Dictionary(uniqueKeysWithValues: nodes.map { (Self.sleuthKitName($0.key), $0.value.entry.node) })
        #expect(listing == ours, "fls differs: \(Set(listing.keys).symmetricDifference(ours.keys).map(text).sorted().prefix(10))")
        var compared = 0
        for (path, node) in nodes.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) })
        where node.attributes.kind == .regular && node.attributes.size <= Self.largeFile && !Self.isBulk(path) {
            let output = try Tool.run("icat", [image, String(node.entry.node)], allowFailure: true)
            guard output.status == 0 else {
                // TSK 4.11 cannot map a file whose first block is a hole ("No filler entry for 0").
                #expect(sparseNodes[node.entry.node]?.pieces.first?.offset ?? 0 > 0 || output.stderr.contains("filler"),
                        "icat \(text(path)): \(output.stderr)")
                continue
            }
            #expect(output.stdout == (try volume.readAll(node.entry.node)), "icat \(text(path))")
            compared += 1
        }
        #expect(compared >= 30, "icat compared \(compared) files")
    }

    // MARK: - Helpers

    /// The image really has what the variant is meant to cover, as debugfs reads it.
    static func checkLayoutsExercised(_ variant: Variant, image: String, nodes: [[UInt8]: VolumeNode], in directory: TemporaryDirectory) throws {
        func node(_ path: String) throws -> UInt64 { try #require(nodes[bytes(path)]).entry.node }
        let indexFlag: UInt32 = 0x1000, inlineFlag: UInt32 = 0x1000_0000, extentFlag: UInt32 = 0x8_0000
        var wanted = ["medium", "files/several-mib", "files/small-50", "symlinks/slow-61", "symlinks/fast"]
        if variant.bigDirectory > 0 { wanted.append("big") }
        let reports = try Debugfs.stat(image, try wanted.map(node), in: directory)
        func flags(_ path: String) throws -> UInt32 { try #require(reports[try node(path)]).flags }
        #expect(try flags("medium") & indexFlag != 0, "medium/ is an htree directory")
        if variant.bigDirectory > 0 { #expect(try flags("big") & indexFlag != 0, "big/ is an htree directory") }
        let extents = variant.flavour == .ext4 && !variant.options.contains { $0.contains("^extent") }
        #expect((try flags("files/several-mib") & extentFlag != 0) == extents)
        if variant.options.contains("inline_data") {
            #expect(try flags("files/small-50") & inlineFlag != 0, "small file stored inline")
            #expect(try flags("symlinks/slow-61") & inlineFlag != 0, "61-byte symlink stored inline")
            let small = try Debugfs.stat(image, [try node("empty-dir"), try node("deep/a")], in: directory)
            #expect(small.values.allSatisfy { $0.flags & inlineFlag != 0 }, "small directories stored inline")
        }
        if extents, variant.blockSize == 1024 {
            let stat = try Tool.debugfs(image, ["stat <\(try node("holes/fragmented"))>"], in: directory)
            #expect(stat.contains("(ETB1)"), "two-level extent tree")
        }
    }

    /// Every node of the source tree by relative path.
    static func sourceNodes(_ root: [UInt8]) throws -> [[UInt8]: stat] {
        var nodes: [[UInt8]: stat] = [:]
        var pending: [[UInt8]] = [[]]
        while let relative = pending.popLast() {
            let absolute = relative.isEmpty ? root : join(root, relative)
            for name in try Posix.list(absolute) {
                let child = relative.isEmpty ? name : join(relative, name)
                let info = try Posix.lstat(join(root, child))
                nodes[child] = info
                if info.st_mode & S_IFMT == S_IFDIR { pending.append(child) }
            }
        }
        return nodes
    }

    static func kind(_ mode: mode_t) -> NodeKind? {
        switch mode & S_IFMT {
        case S_IFREG: .regular
        case S_IFDIR: .directory
        case S_IFLNK: .symlink
        case S_IFIFO: .fifo
        case S_IFSOCK: .socket
        case S_IFCHR: .characterDevice
        case S_IFBLK: .blockDevice
        default: nil
        }
    }

    static func compare(_ node: VolumeNode, with info: stat, at source: [UInt8], tree: SourceTree, volume: Ext4Volume,
                        nodes: [[UInt8]: VolumeNode]) throws {
        let attributes = node.attributes
        let label = text(node.path)
        #expect(attributes.kind == kind(info.st_mode), "\(label)")
        #expect(node.entry.kind == attributes.kind, "\(label): directory entry type")
        #expect(attributes.node == node.entry.node)
        #expect(attributes.permissions == UInt16(info.st_mode & 0o7777), "\(label)")
        #expect(attributes.uid == info.st_uid && attributes.gid == info.st_gid, "\(label)")
        #expect(attributes.modified.seconds == Int64(info.st_mtim.tv_sec), "\(label) mtime")
        // mke2fs 1.47.0 -d copies whole seconds only; a later one that copies nanoseconds must match.
        if attributes.modified.nanoseconds != 0 {
            #expect(Int(attributes.modified.nanoseconds) == info.st_mtim.tv_nsec, "\(label) mtime ns")
        }
        #expect(attributes.allocatedBytes % 512 == 0)
        switch attributes.kind {
        case .regular:
            #expect(attributes.size == UInt64(info.st_size), "\(label) size")
            #expect(attributes.linkCount == UInt32(info.st_nlink), "\(label) links")
            if attributes.size <= largeFile {
                #expect(try volume.readAll(node.entry.node, chunk: 100_003) == Posix.readFile(source), "\(label) bytes")
            } else {
                try compareLargeFile(node, source: source, tree: tree, volume: volume)
            }
            #expect(try volume.read(node.entry.node, at: attributes.size, count: 10) == [], "\(label): read at EOF")
        case .symlink:
            let target = try Posix.readlink(source)
            #expect(try volume.symlinkTarget(of: node.entry.node) == target, "\(label) target")
            #expect(attributes.size == UInt64(target.count))
            #expect(throws: VolumeError.self) { try volume.read(node.entry.node, at: 0, count: 1) }
        case .fifo, .socket:
            #expect(attributes.size == 0)
            #expect(attributes.device == 0)
            #expect(throws: VolumeError.self) { try volume.read(node.entry.node, at: 0, count: 1) }
            #expect(throws: VolumeError.self) { try volume.dataRanges(of: node.entry.node) }
        case .directory:
            #expect(throws: VolumeError.self) { try volume.read(node.entry.node, at: 0, count: 1) }
            #expect(throws: VolumeError.self) { try volume.symlinkTarget(of: node.entry.node) }
        case .blockDevice, .characterDevice:
            break
        }
        if attributes.kind != .directory {
            #expect(throws: VolumeError.self) { try volume.entries(of: node.entry.node) }
        }
    }

    /// Files too large to read whole: every written piece, samples of the holes, the last byte.
    static func compareLargeFile(_ node: VolumeNode, source: [UInt8], tree: SourceTree, volume: Ext4Volume) throws {
        let layout = try #require(tree.sparse[source], "large files are the sparse ones")
        for piece in layout.pieces {
            let expected = try Posix.readFile(source, at: piece.offset, count: piece.count)
            #expect(try volume.read(node.entry.node, at: piece.offset, count: piece.count) == expected)
            // A read across the start of the piece: zeros, then data.
            if piece.offset >= 100 {
                let across = try volume.read(node.entry.node, at: piece.offset - 100, count: 100 + piece.count)
                #expect(across == [UInt8](repeating: 0, count: 100) + expected)
            }
        }
        for hole in holes(size: layout.size, pieces: layout.pieces, alignment: 4096).prefix(4) {
            let sample = try volume.read(node.entry.node, at: hole.lowerBound, count: Int(min(hole.count, 1 << 20)))
            #expect(sample.allSatisfy { $0 == 0 })
        }
        #expect(try volume.read(node.entry.node, at: layout.size - 1, count: 100).count == 1)
    }

    /// The gaps between pieces, shrunk to `alignment` boundaries.
    static func holes(size: UInt64, pieces: [(offset: UInt64, count: Int)], alignment: UInt64) -> [Range<UInt64>] {
        var holes: [Range<UInt64>] = []
        var position: UInt64 = 0
        for piece in pieces.sorted(by: { $0.offset < $1.offset }) + [(size, 0)] {
            let start = (position + alignment - 1) / alignment * alignment
            let end = piece.offset / alignment * alignment
            if start < end { holes.append(start ..< end) }
            position = max(position, piece.offset + UInt64(piece.count))
        }
        return holes
    }

    static func containsACLEntry(_ value: [UInt8], tag: UInt16, permissions: UInt16, id: UInt32) -> Bool {
        var offset = 4
        while offset + 8 <= value.count {
            let entryTag = UInt16(value[offset]) | UInt16(value[offset + 1]) << 8
            let entryPermissions = UInt16(value[offset + 2]) | UInt16(value[offset + 3]) << 8
            let entryID = value[offset + 4 ..< offset + 8].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            if entryTag == tag, entryPermissions == permissions, entryID == id { return true }
            offset += 8
        }
        return false
    }

    static func parent(of path: [UInt8]) -> [UInt8]? {
        guard let slash = path.lastIndex(of: UInt8(ascii: "/")) else { return [] }
        return Array(path[..<slash])
    }

    static func isBulk(_ path: [UInt8]) -> Bool {
        path.starts(with: bytes("big/")) || path.starts(with: bytes("medium/"))
    }

    /// The name as fls prints it: control characters become '^'.
    static func sleuthKitName(_ path: [UInt8]) -> [UInt8] {
        path.map { $0 < 0x20 ? UInt8(ascii: "^") : $0 }
    }
}
