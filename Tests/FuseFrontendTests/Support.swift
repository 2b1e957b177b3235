#if canImport(Glibc)
import Glibc
#endif
import Foundation
@testable import FuseFrontend
import PointNamespace
import PointTestSupport
import Synchronization
import TestSupport

/// One point for the read-only tests: building it (mke2fs, an RSA key, encryption) is the slow part.
let sharedPoint = Result { try TreePoint() }

/// A `PointFilesystem` over a point, driven the way FuseOperations drives it, minus the kernel.
final class Harness {
    let point: TreePoint
    let filesystem: PointFilesystem
    private let logged = LogLines()

    init(_ point: TreePoint) throws {
        self.point = point
        let logged = self.logged
        filesystem = PointFilesystem(namespace: try point.namespace()) { line in logged.lines.withLock { $0.append(line) } }
    }

    /// What the filesystem logged (EIO failures, with their paths).
    var log: [String] { logged.lines.withLock { $0 } }

    static func shared() throws -> Harness { try Harness(try sharedPoint.get()) }

    /// Where the source tree shows: partition 1's volume.
    static let volume = ["disk0", "part1"]

    func source(_ relative: String) -> String { "\(point.source)/\(relative)" }

    /// The inode number of `relative` inside partition 1, through lookup alone.
    func number(_ relative: String) throws -> UInt64 {
        try number(components: Self.volume + relative.split(separator: "/").map(String.init))
    }

    func number(components: [String]) throws -> UInt64 {
        var number: UInt64 = 1
        for component in components {
            let reply = filesystem.lookup(parent: number, name: Array(component.utf8))
            guard let entry = reply.entry else { throw TestFailure("lookup \(component): \(reply)") }
            number = entry.node
        }
        return number
    }

    /// `count` bytes at `offset` through read, and the window the read chose; the reply
    /// is finished as the adapter finishes it, storing the window through `store`.
    func read(_ number: UInt64, at offset: Int, count: Int, store: (UInt64, UnsafeMutableRawBufferPointer) -> Bool = { _, _ in false })
        throws -> (bytes: [UInt8], window: Range<UInt64>?) {
        let reply = filesystem.read(number, size: count, offset: off_t(offset))
        guard case let .data(read) = reply else { throw TestFailure("read \(number) at \(offset): \(reply)") }
        let bytes = Array(UnsafeRawBufferPointer(rebasing: read.buffer[0 ..< read.count]))
        filesystem.finish(read, store: store)
        return (bytes, read.window?.range)
    }

    /// A directory's whole listing through opendir and readdir(plus) pages of `size` bytes.
    func list(_ number: UInt64, size: Int, plus: Bool) throws -> [[DirectoryPage.Entry]] {
        guard case let .open(handle?, keepCache) = filesystem.opendir(number), keepCache else { throw TestFailure("opendir \(number)") }
        defer { _ = filesystem.releasedir(handle: handle) }
        var pages: [[DirectoryPage.Entry]] = []
        var offset = 0
        while true {
            let reply = filesystem.readdir(number, handle: handle, size: size, offset: off_t(offset), plus: plus)
            guard case let .directoryPage(page) = reply else { throw TestFailure("readdir: \(reply)") }
            guard let last = page.entries.last else { return pages }
            pages.append(page.entries)
            offset = last.nextOffset
        }
    }
}

final class LogLines: Sendable {
    let lines = Mutex<[String]>([])
}

extension FuseReply {
    var errno: Int32? {
        if case let .error(errno) = self { return errno }
        return nil
    }

    var entry: FuseEntry? {
        if case let .entry(entry) = self { return entry }
        return nil
    }

    var attributes: stat? {
        if case let .attributes(attributes, _) = self { return attributes }
        return nil
    }
}

extension DirectoryPage.Entry {
    var text: String { String(decoding: name, as: UTF8.self) }
}

/// The source's own answers, from the kernel.
enum Source {
    static func lstat(_ path: String) throws -> stat {
        var info = stat()
        guard Glibc.lstat(path, &info) == 0 else { throw TestFailure("lstat \(path): errno \(errno)") }
        return info
    }

    static func names(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory)
    }

    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }
}
