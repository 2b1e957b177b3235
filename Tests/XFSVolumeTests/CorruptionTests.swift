import BlockDevices
import Foundation
import TestSupport
import Testing
import VolumeModel
import XFSVolume

/// Damaged metadata fails the file or directory it belongs to with a corruption error naming
/// the structure; it never yields other names or bytes.
@Suite(.timeLimit(.minutes(5))) struct CorruptionTests {
    static let fill = #"""
    import os, sys
    m = sys.argv[1]
    p = lambda *a: os.path.join(m, *a)
    with open(p('small'), 'wb') as f: f.write(b'small file')
    with open(p('other'), 'wb') as f: f.write(b'another file')
    os.mkdir(p('dir'))
    for i in range(400): open(p('dir', 'entry-with-a-longer-name-%04d' % i), 'w').close()
    f = os.open(p('fragmented'), os.O_WRONLY | os.O_CREAT)
    for i in range(0, 400, 2): os.pwrite(f, bytes([i % 251 + 1]) * 4096, i * 4096)
    os.close(f)
    with open(p('xattrs'), 'wb') as f: f.write(b'x')
    os.setxattr(p('xattrs'), 'user.remote', os.urandom(9000))
    for i in range(40): os.setxattr(p('xattrs'), 'user.a%02d' % i, os.urandom(90))
    os.symlink('/'.join(['segment%03d' % i for i in range(60)]), p('link'))
    """#

    static func image(in directory: TemporaryDirectory) throws -> String {
        try XFSImageBuilder.make(in: directory, size: 24 << 20, fill: fill)
    }

    /// Volume byte where xfs_db places an inode or a filesystem block.
    static func byte(_ image: String, _ what: String) throws -> UInt64 {
        let output = try Shell.check("xfs_db", ["-r", "-c", "convert \(what) byte", image])
        guard let open = output.firstIndex(of: "("), let close = output.firstIndex(of: ")"),
              let value = UInt64(output[output.index(after: open) ..< close]) else { throw TestFailure("xfs_db convert: \(output)") }
        return value
    }

    static func flip(_ image: String, at offset: UInt64) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: image))
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        let old = try handle.read(upToCount: 1) ?? Data([0])
        try handle.seek(toOffset: offset)
        try handle.write(contentsOf: Data([old[0] ^ 0x10]))
    }

    static func corruption(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as VolumeError {
            guard case .corrupt = error else { return "not corruption: \(error)" }
            return error.description
        } catch {
            return "\(error)"
        }
    }

    @Test func damagedInode() throws {
        let directory = try TemporaryDirectory("rpfs-xfs-damage")
        let image = try Self.image(in: directory)
        let node = try openVolume(image).node(at: "small")
        try Self.flip(image, at: try Self.byte(image, "inode \(node)") + 60)
        let volume = try openVolume(image)
        let message = Self.corruption { _ = try volume.attributes(of: node) }
        #expect(message?.contains("inode \(node)") == true && message?.contains("checksum") == true, "\(message ?? "no error")")
        #expect(try volume.contents(volume.node(at: "other")) == Array("another file".utf8))
    }

    @Test func damagedDirectoryBlock() throws {
        let directory = try TemporaryDirectory("rpfs-xfs-damage")
        let image = try Self.image(in: directory)
        let node = try openVolume(image).node(at: "dir")
        let first = try XFSDebug.firstBlock(image, inode: node)
        try Self.flip(image, at: try Self.byte(image, "fsb \(first)") + 200)
        let volume = try openVolume(image)
        let message = Self.corruption { _ = try volume.entries(of: node) }
        #expect(message?.contains("directory data block 0 of directory inode \(node)") == true, "\(message ?? "no error")")
        #expect(Self.corruption { _ = try volume.node(at: "dir/entry-with-a-longer-name-0001") } != nil)
    }

    @Test func damagedBmbtBlock() throws {
        let directory = try TemporaryDirectory("rpfs-xfs-damage")
        let image = try Self.image(in: directory)
        let node = try openVolume(image).node(at: "fragmented")
        let output = try Shell.check("xfs_db", ["-r", "-c", "inode \(node)", "-c", "print u3.bmbt.ptrs[1]", image])
        guard let pointer = output.split(separator: "=").last.flatMap({ UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
            throw TestFailure("no B-tree root pointer: \(output)")
        }
        try Self.flip(image, at: try Self.byte(image, "fsb \(pointer)") + 300)
        let volume = try openVolume(image)
        let message = Self.corruption { _ = try volume.contents(node) }
        #expect(message?.contains("block map B-tree block") == true, "\(message ?? "no error")")
        #expect(try volume.contents(volume.node(at: "small")) == Array("small file".utf8))
    }

    /// Random damage across every used block: most volumes still open and most files still
    /// read their own bytes; no listing ever shows a name the pristine volume lacks.
    @Test func randomDamage() throws {
        let directory = try TemporaryDirectory("rpfs-xfs-sweep")
        let image = try Self.image(in: directory)
        let pristine = [UInt8](try Data(contentsOf: URL(fileURLWithPath: image)))
        var birthTimes: [[UInt8]: Timestamp] = [:]
        let names = try Set(ReaderTree.read(openVolume(image), birthTimes: &birthTimes).keys)
        let original = try Self.walk(openVolume(image), names: names).files
        let scratch = directory.file("damaged.img")
        var strayNames: [[UInt8]] = []
        let sweep = ImageDamage.sweep(pristine, original: original, blockSize: 4096, rounds: 80, seed: 17) { bytes in
            guard (try? Data(bytes).write(to: URL(fileURLWithPath: scratch))) != nil,
                  let volume = try? openVolume(scratch) else { return nil }
            guard let walked = try? Self.walk(volume, names: names) else { return [:] }
            strayNames += walked.stray
            return walked.files
        }
        #expect(sweep.problems.isEmpty, "\(sweep.problems)")
        #expect(strayNames.isEmpty, "names no pristine listing holds: \(strayNames.prefix(5).map { String(decoding: $0, as: UTF8.self) })")
    }

    /// Inputs the xfs fuzz target (Fuzz/) once failed on, zero-extended to its 16 MiB as it
    /// does, through the same open and walk.
    @Test func fuzzRegressionInputs() throws {
        let directory = try TemporaryDirectory("rpfs-xfs-fuzz")
        let scratch = directory.file("input.img")
        for (_, bytes) in try FuzzRegressions.inputs("xfs") {
            try Data(bytes + [UInt8](repeating: 0, count: max(0, (16 << 20) - bytes.count))).write(to: URL(fileURLWithPath: scratch))
            guard let volume = try? openVolume(scratch) else { continue }
            _ = try? Self.walk(volume, names: nil)
        }
    }

    /// Every regular file that reads completely, by node; directories that fail are skipped.
    /// Paths not in `names` (when given) are stray: listed, not followed.
    static func walk(_ volume: XFSVolume, names: Set<[UInt8]>?) throws -> (files: [UInt64: [UInt8]], stray: [[UInt8]]) {
        var files: [UInt64: [UInt8]] = [:]
        var stray: [[UInt8]] = []
        var pending: [([UInt8], UInt64)] = [([], volume.rootNode)]
        // A damaged directory may name an ancestor: each is walked once.
        var seen: Set<UInt64> = []
        while let (prefix, node) = pending.popLast() {
            guard seen.insert(node).inserted, let entries = try? volume.entries(of: node) else { continue }
            for entry in entries {
                let path = prefix.isEmpty ? entry.name.bytes : prefix + [0x2F] + entry.name.bytes
                if let names, !names.contains(path) { stray.append(path); continue }
                if entry.kind == .directory { pending.append((path, entry.node)) }
                if entry.kind == .regular, let bytes = try? volume.contents(entry.node) { files[entry.node] = bytes }
                _ = try? volume.extendedAttributes(of: entry.node)
                _ = try? volume.symlinkTarget(of: entry.node)
            }
        }
        return (files, stray)
    }
}
