import Foundation
import PointNamespace
import PointTestSupport
import RecoveryPoint
import TestSupport
import Testing
import VolumeModel

let sharedPoint = Result { try TreePoint() }

@Suite struct PointNamespaceTests {
    /// The ext4 inode number debugfs reports for `path` inside partition 1's image.
    private func inode(_ path: String, in point: TreePoint) throws -> UInt64 {
        let report = try Shell.check("debugfs", ["-R", "stat \(path)", point.directory.file("first.img")])
        guard let field = report.split(separator: " ").drop(while: { $0 != "Inode:" }).dropFirst().first, let inode = UInt64(field) else {
            throw TestFailure("no inode for \(path) in \(report)")
        }
        return inode
    }

    @Test func pathsResolveFromTheRootDown() throws {
        let point = try sharedPoint.get()
        let namespace = try point.namespace()
        #expect(try namespace.resolve("/") == .root)
        #expect(try namespace.resolve("/disk0") == .disk(0))
        #expect(try namespace.resolve("/disk0/part1") == .file(volume: 0, node: try inode("/", in: point)))
        #expect(try namespace.resolve("/disk0/part1/etc/hostname") == .file(volume: 0, node: try inode("/etc/hostname", in: point)))
        #expect(try namespace.resolve("//disk0/part1/srv/") == .file(volume: 0, node: try inode("/srv", in: point)))
        #expect(try namespace.list(try namespace.resolve("/"), path: "/").map(\.name.description) == ["disk0"])
        let part1 = try namespace.resolve("/disk0/part1")
        #expect(Set(try namespace.list(part1, path: "/disk0/part1").map(\.name.description))
            == Set(try FileManager.default.contentsOfDirectory(atPath: point.source) + ["lost+found"]))

        #expect(throws: NamespaceError.self) { try namespace.resolve("disk0") }
        do {
            _ = try namespace.resolve("/disk0/part1/etc/nothing")
            Issue.record("a missing name resolved")
        } catch let .volume(path, .notFound) {
            #expect(path == "/disk0/part1/etc/nothing")
        }
        do {
            _ = try namespace.resolve("/disk0/part1/etc/hostname/below")
            Issue.record("a name below a file resolved")
        } catch let .volume(_, error) {
            guard case .notADirectory = error else { throw TestFailure("\(error)") }
        }
        do {
            _ = try namespace.resolve("/disk7")
            Issue.record("a missing disk resolved")
        } catch .notFound {}
    }

    @Test func unreadableVolumesAreListedWithTheirReason() throws {
        let namespace = try sharedPoint.get().namespace()
        let disk = try namespace.resolve("/disk0")
        let volumes = try namespace.list(disk, path: "/disk0")
        #expect(volumes.map(\.name.description) == ["part1", "part2", "part3"])
        #expect(volumes.allSatisfy { $0.kind == .directory })
        guard case .unavailableVolume = volumes[2].node else { throw TestFailure("part3 is \(volumes[2].node)") }
        #expect(namespace.skippedVolumes.isEmpty)
        do {
            _ = try namespace.list(volumes[2].node, path: "/disk0/part3")
            Issue.record("an unreadable volume listed contents")
        } catch let .volumeUnavailable(path, reason) {
            #expect(path == "/disk0/part3")
            #expect(reason == "not readable: contents not recognised")
        }
        #expect(try namespace.attributes(volumes[2].node, path: "/disk0/part3").kind == .directory)
    }

    @Test func nodeNumbersAreStableAndUniqueAcrossVolumes() throws {
        let point = try sharedPoint.get()
        let first = try point.namespace()
        let second = try point.namespace()
        var numbers: [UInt64: String] = [:]
        for path in ["/", "/disk0", "/disk0/part1", "/disk0/part2", "/disk0/part3", "/disk0/part1/etc", "/disk0/part1/etc/hostname",
                     "/disk0/part2/hello", "/disk0/part1/srv/data/blob.bin"] {
            let node = try first.resolve(path)
            #expect(try second.resolve(path).number == node.number, "\(path)")
            #expect(first.node(number: node.number) == node, "\(path)")
            #expect(numbers.updateValue(path, forKey: node.number) == nil, "\(path) shares a number with \(numbers[node.number] ?? "")")
        }
        // Both volumes' roots are ext4 inode 2, yet their numbers differ.
        guard case let .file(_, one) = try first.resolve("/disk0/part1"), case let .file(_, two) = try first.resolve("/disk0/part2") else {
            throw TestFailure("volume roots are not files")
        }
        #expect(one == two)
        #expect(first.node(number: 0xFFFF_0000_0000_0001) == nil)
    }

    @Test func pointIDAndDiskSizeAreThePoints() throws {
        let point = try sharedPoint.get()
        let namespace = try point.namespace()
        #expect(namespace.pointID == point.id.description)
        #expect(try OpenedPoint.header(point.id, in: point.store).id.description == namespace.pointID)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: point.disk)[.size] as? Int)
        #expect(namespace.totalDiskBytes == UInt64(size))
        #expect(namespace.largestChunkSize == TreePoint.chunkSize)
    }
}
