import Catalog
import Foundation
import PointNamespace
import PointTestSupport
import RecoveryPoint
import TestSupport
import Testing
import VolumeModel

/// Every path of a source tree, relative ("etc/hostname"), with its lstat.
func sourceTree(_ root: String) throws -> [(path: String, info: stat)] {
    var found: [(String, stat)] = []
    guard let walk = FileManager.default.enumerator(atPath: root) else { throw TestFailure("cannot walk \(root)") }
    while let relative = walk.nextObject() as? String {
        var info = stat()
        guard lstat("\(root)/\(relative)", &info) == 0 else { throw TestFailure("lstat \(relative)") }
        found.append((relative, info))
    }
    return found
}

func isRegular(_ info: stat) -> Bool { info.st_mode & S_IFMT == S_IFREG }

/// Where a file's bytes lie (placement followed down to the disk), against the source tree
/// and against debugfs, which reads the ext4 image itself.
@Suite struct PlacementTests {
    @Test func everyFilesChunkPiecesHoldExactlyItsBytes() throws {
        let tree = try TreePoint()
        let namespace = try tree.namespace()
        let disk = try Data(contentsOf: URL(fileURLWithPath: tree.disk))
        var checked = 0
        for (relative, info) in try sourceTree(tree.source) where isRegular(info) {
            let path = "/disk0/part1/\(relative)"
            let (placement, pieces) = try namespace.chunkPieces(of: try namespace.resolve(path), path: path)
            var rebuilt = [UInt8](repeating: 0, count: Int(placement.size))
            rebuilt.replaceSubrange(0 ..< placement.inline.count, with: placement.inline)
            for piece in pieces {
                let start = Int(piece.chunk) * TreePoint.chunkSize + Int(piece.offsetInChunk)
                #expect(piece.offsetInChunk + piece.length <= UInt64(TreePoint.chunkSize), "\(path): a piece crosses its chunk")
                rebuilt.replaceSubrange(Int(piece.fileOffset) ..< Int(piece.fileOffset + piece.length), with: disk[start ..< start + Int(piece.length)])
            }
            let expected = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(tree.source)/\(relative)")))
            #expect(rebuilt == expected, "\(path)")
            checked += 1
        }
        #expect(checked > TreePoint.manyEntries)
    }

    @Test func placementRunsAreTheBlocksDebugfsLists() throws {
        let tree = try TreePoint()
        let namespace = try tree.namespace()
        let image = tree.directory.file("first.img")
        var checked = 0
        for (relative, info) in try sourceTree(tree.source) where isRegular(info) && info.st_size > 0 && !relative.hasPrefix("many/") {
            let path = "/disk0/part1/\(relative)"
            let placement = try namespace.withVolume(try namespace.resolve(path), path: path) { volume, node throws(VolumeError) in
                try volume.placement(of: node)
            }
            let ours = placement.runs.flatMap { run in
                (run.volumeOffset / 4096 ..< (run.volumeOffset + run.length + 4095) / 4096).map { $0 }
            }
            let listed = try Shell.check("debugfs", ["-R", "blocks \"/\(relative)\"", image]).split(whereSeparator: \.isWhitespace).compactMap { UInt64($0) }
            #expect(ours == listed, "\(path)")
            checked += 1
        }
        #expect(checked >= 4)
    }
}

/// A catalog's records against the source tree the volume was made from.
@Suite struct CatalogRecordTests {
    @Test func theCatalogRecordsEveryPathWithItsAttributes() throws {
        let tree = try TreePoint()
        let namespace = try tree.namespace()
        let summary = try CatalogBuilder.build(namespace)
        var entries: [String: CatalogEntry] = [:]
        var stream = try CatalogStream(namespace.point)
        var order: [String] = []
        while let entry = try stream.next() {
            entries[entry.path] = entry
            order.append(entry.path)
        }
        #expect(summary.entries == entries.count)
        #expect(order == order.sorted { PathOrder.precedes($0, $1) })

        let prefix = "/disk0/part1/"
        let source = try sourceTree(tree.source)
        let catalogued = Set(entries.keys.filter { $0.hasPrefix(prefix) && !$0.hasPrefix(prefix + "lost+found") })
        #expect(catalogued == Set(source.map { prefix + $0.path }))
        for (relative, info) in source {
            guard let entry = entries[prefix + relative] else { continue }
            let kinds: [mode_t: NodeKind] = [S_IFREG: .regular, S_IFDIR: .directory, S_IFLNK: .symlink, S_IFIFO: .fifo]
            #expect(entry.kind == kinds[info.st_mode & S_IFMT], "\(relative)")
            #expect(entry.permissions == UInt16(info.st_mode & 0o7777), "\(relative)")
            #expect(entry.uid == info.st_uid && entry.gid == info.st_gid, "\(relative)")
            #expect(entry.modified.seconds == Int64(info.st_mtim.tv_sec), "\(relative)")
            #expect(entry.linkCount == UInt32(info.st_nlink), "\(relative)")
            #expect(entry.problem == nil, "\(relative): \(entry.problem ?? "")")
            if entry.kind != .directory { #expect(entry.size == UInt64(info.st_size), "\(relative)") }
            if entry.kind == .symlink {
                let target = try FileManager.default.destinationOfSymbolicLink(atPath: "\(tree.source)/\(relative)")
                #expect(entry.symlinkTarget == Array(target.utf8), "\(relative)")
            }
            #expect((entry.content != nil) == isRegular(info), "\(relative)")
            // Attributes are hashed: present exactly where getfattr lists some.
            let listed = try Shell.check("getfattr", ["-h", "-d", "-m", "-", "\(tree.source)/\(relative)"])
            #expect(entry.attributesDigest.isEmpty == listed.isEmpty, "\(relative)")
        }
        // The second volume, and the partition no reader knows, with its reason.
        #expect(entries["/disk0/part2/hello"]?.size == 14)
        let unknown = try #require(entries["/disk0/part3"])
        #expect(unknown.problem?.contains("not recognised") == true, "\(unknown.problem ?? "no problem")")
    }
}
