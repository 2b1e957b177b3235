import Foundation
import PointNamespace
import TestSupport
import Testing
import VolumeModel

let sharedLVMPoint = Result { try LVMPoint() }

/// Logical volumes in the tree, from a point of disks whose volume group lvm2 made. Names,
/// sizes and types are lvm2's report; file contents are the source tree mke2fs -d copied.
@Suite struct LogicalVolumeTests {
    @Test func logicalVolumesAreUnderLVMAndHoldTheSourceTree() throws {
        let point = try sharedLVMPoint.get()
        let namespace = try point.namespace(point.both)
        #expect(try namespace.list(.root, path: "/").map(\.name.description) == ["disk0", "disk1", "lvm"])
        #expect(try namespace.list(try namespace.resolve("/lvm"), path: "/lvm").map(\.name.description) == [point.group])
        let group = "/lvm/\(point.group)"
        #expect(try namespace.list(try namespace.resolve(group), path: group).map(\.name.description).sorted()
            == point.reportedVolumes.map(\.name).sorted())
        try compare(namespace, "\(group)/root", with: point.source, relative: "")
        #expect(try read(namespace, "\(group)/data/hello") == Array("on the data LV\n".utf8))
        #expect(try read(namespace, "\(group)/solo/hello") == Array("on the data LV\n".utf8))
        // The partition beside the PV is still read as before.
        #expect(try read(namespace, "/disk0/part1/hello") == Array("on the data LV\n".utf8))
    }

    @Test func physicalVolumesSayWhereTheirGroupIs() throws {
        let point = try sharedLVMPoint.get()
        let namespace = try point.namespace(point.both)
        for path in ["/disk0/part2", "/disk1/volume"] {
            do {
                _ = try namespace.list(try namespace.resolve(path), path: path)
                Issue.record("\(path) listed contents")
            } catch let .volumeUnavailable(location, reason) {
                #expect(location == path)
                #expect(reason == "LVM2 physical volume of volume group \(point.group): its logical volumes are under /lvm/\(point.group)")
            }
        }
    }

    @Test func aMissingDiskLeavesTheVolumesWhollyOnTheOtherReadable() throws {
        let point = try sharedLVMPoint.get()
        let namespace = try point.namespace(point.firstOnly)
        let group = "/lvm/\(point.group)"
        #expect(try read(namespace, "\(group)/solo/hello") == Array("on the data LV\n".utf8))
        for volume in ["root", "data"] {
            do {
                _ = try namespace.list(try namespace.resolve("\(group)/\(volume)"), path: "\(group)/\(volume)")
                Issue.record("\(volume) listed without its second PV")
            } catch {
                #expect("\(error)".contains(point.physicalUUIDs[1]), "\(error)")
            }
        }
    }

    @Test func nodeNumbersOfTheNewDirectoriesAreStableAndUnique() throws {
        let point = try sharedLVMPoint.get()
        let first = try point.namespace(point.both)
        let second = try point.namespace(point.both)
        var numbers: [UInt64: String] = [:]
        let group = "/lvm/\(point.group)"
        for path in ["/", "/disk0", "/disk1", "/lvm", group, "\(group)/root", "\(group)/data", "\(group)/solo", "/disk0/part1",
                     "/disk0/part2", "/disk1/volume", "\(group)/root/etc/hostname", "\(group)/data/hello"] {
            let node = try first.resolve(path)
            #expect(try second.resolve(path).number == node.number, "\(path)")
            #expect(first.node(number: node.number) == node, "\(path)")
            #expect(numbers.updateValue(path, forKey: node.number) == nil, "\(path) shares a number with \(numbers[node.number] ?? "")")
            #expect(try first.attributes(node, path: path).node == node.number)
        }
    }

    private func read(_ namespace: PointNamespace, _ path: String) throws -> [UInt8] {
        let node = try namespace.resolve(path)
        let size = try namespace.attributes(node, path: path).size
        return try namespace.withVolume(node, path: path) { volume, inner throws(VolumeError) in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(Int(size), 1), alignment: 1)
            defer { buffer.deallocate() }
            var done = 0
            while done < Int(size) {
                let n = try volume.read(inner, at: UInt64(done), into: UnsafeMutableRawBufferPointer(rebasing: buffer[done ..< Int(size)]))
                guard n > 0 else { break }
                done += n
            }
            return Array(buffer[..<done])
        }
    }

    /// Every name, kind, file's bytes and link target below `path` equals the source tree's.
    private func compare(_ namespace: PointNamespace, _ path: String, with source: String, relative: String) throws {
        let entries = try namespace.list(try namespace.resolve(path), path: path).filter { $0.name.description != "lost+found" || !relative.isEmpty }
        let names = try FileManager.default.contentsOfDirectory(atPath: "\(source)\(relative)").sorted()
        #expect(entries.map(\.name.description).sorted() == names, "\(path)")
        for entry in entries {
            let inside = "\(path)/\(entry.name)"
            let original = "\(source)\(relative)/\(entry.name)"
            let kind = try FileManager.default.attributesOfItem(atPath: original)[.type] as? FileAttributeType
            switch entry.kind {
            case .directory:
                #expect(kind == .typeDirectory, "\(inside)")
                try compare(namespace, inside, with: source, relative: "\(relative)/\(entry.name)")
            case .regular:
                #expect(try read(namespace, inside) == [UInt8](try Data(contentsOf: URL(fileURLWithPath: original))), "\(inside)")
            case .symlink:
                let target = try namespace.withVolume(entry.node, path: inside) { volume, inner throws(VolumeError) in try volume.symlinkTarget(of: inner) }
                #expect(String(decoding: target, as: UTF8.self) == (try FileManager.default.destinationOfSymbolicLink(atPath: original)), "\(inside)")
            default:
                #expect(kind != .typeRegular && kind != .typeDirectory && kind != .typeSymbolicLink, "\(inside)")
            }
        }
    }
}
