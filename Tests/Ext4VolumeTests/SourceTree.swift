import ByteParsing
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TestSupport

/// A directory tree with everything a VM's filesystem holds, built with real system calls
/// and tools, for `mke2fs -d` to copy into an image.
struct SourceTree {
    /// Absolute path of the tree, as bytes.
    let root: [UInt8]
    /// Files written sparsely: path → (size, the pieces that hold data).
    let sparse: [[UInt8]: (size: UInt64, pieces: [(offset: UInt64, count: Int)])]
    /// Paths whose extended attributes `getfattr` can report (ASCII paths with xattrs or ACLs).
    let attributePaths: [[UInt8]]

    static let kib: UInt64 = 1024
    static let mib: UInt64 = 1024 * 1024

    /// Names that are legal on Linux but hard on tools: Unicode, control characters, bytes
    /// that are not UTF-8, the longest allowed names.
    static let oddNames: [[UInt8]] = [
        bytes("café"), bytes("日本語.txt"), bytes("emoji-😀"), bytes("with space"), bytes("new\nline"),
        bytes("tab\there"), bytes("back\\slash"), [0x62, 0x61, 0x64, 0x2D, 0xFF, 0xFE], [0x01] + bytes("ctl"),
        bytes("-dash"), bytes("..."), bytes(" "), bytes("a:b*?\"<>|"),
        [UInt8](repeating: UInt8(ascii: "n"), count: 255),
        bytes(String(repeating: "é", count: 127) + "x"),
    ]

    /// Builds the tree under `directory/src`. `bigDirectory` entries go into `big/` (an htree
    /// directory once e2fsck -D has indexed it).
    static func build(in directory: TemporaryDirectory, bigDirectory: Int = 0, mediumDirectory: Int = 600) throws -> SourceTree {
        let root = bytes(directory.file("src"))
        try Posix.mkdir(root)
        func path(_ relative: String) -> [UInt8] { join(root, bytes(relative)) }
        var sparse: [[UInt8]: (size: UInt64, pieces: [(offset: UInt64, count: Int)])] = [:]
        var seed: UInt64 = 100

        func file(_ relative: String, _ size: Int) throws {
            seed += 1
            try Posix.writeFile(path(relative), content(size, seed: seed))
        }
        func sparseFile(_ relative: String, size: UInt64, pieces: [(offset: UInt64, count: Int)]) throws {
            var written: [(offset: UInt64, bytes: [UInt8])] = []
            for piece in pieces {
                seed += 1
                written.append((piece.offset, content(piece.count, seed: seed)))
            }
            try Posix.writeFile(path(relative), size: size, pieces: written)
            sparse[path(relative)] = (size, pieces)
        }

        // Plain files of the sizes that sit on block boundaries.
        try Posix.mkdir(path("files"))
        for (name, size) in [("empty", 0), ("one", 1), ("page-minus-one", 4095), ("page", 4096),
                             ("mib-plus-3", Int(mib) + 3), ("several-mib", 5 * Int(mib) + 17),
                             ("tiny-10", 10), ("small-50", 50), ("small-100", 100), ("small-150", 150)] {
            try file("files/\(name)", size)
        }

        // Holes: truncate + writes at offsets, as `truncate` and `dd conv=notrunc seek=` make them.
        try Posix.mkdir(path("holes"))
        try sparseFile("holes/middle", size: 8 * mib + 100,
                       pieces: [(0, 4096), (3 * mib, 10000), (8 * mib, 100)])
        try sparseFile("holes/all-hole", size: 2 * mib, pieces: [])
        try sparseFile("holes/tail-only", size: 3 * mib, pieces: [(3 * mib - 5, 5)])
        // 70 MiB: past the double-indirect blocks of a 1 KiB-block ext2 (triple indirect).
        try sparseFile("holes/far", size: 70 * mib + 5, pieces: [(70 * mib, 5)])
        // Over 4 GiB: i_size_high and 64-bit offsets.
        try sparseFile("holes/beyond-4g", size: 5 * 1024 * mib + 7, pieces: [(0, 4096), (5 * 1024 * mib, 7)])
        // 400 separate pieces: 400 extents, a two-level extent tree with 1 KiB blocks. Ends with
        // data: mke2fs 1.47.0 with inline_data cuts a trailing hole off the size.
        try sparseFile("holes/fragmented", size: 399 * 8192 + 4096, pieces: (0 ..< 400).map { (UInt64($0) * 8192, 4096) })

        // The same with the real tools: truncate, then dd conv=notrunc seek= into it (ending
        // with data: see "fragmented").
        let piece = directory.file("piece")
        try Posix.writeFile(bytes(piece), content(8192, seed: 77))
        try Shell.check("truncate", ["-s", "6M", text(path("holes/dd-made"))])
        try Shell.check("dd", ["if=\(piece)", "of=\(text(path("holes/dd-made")))", "bs=4096", "seek=1534", "conv=notrunc", "status=none"])
        sparse[path("holes/dd-made")] = (6 * mib, [(1534 * 4096, 8192)])

        // Hard links.
        try Posix.mkdir(path("links"))
        try file("links/original", 3000)
        try Posix.link(path("links/original"), path("links/second"))
        try Posix.link(path("links/original"), path("links/third"))

        // Symbolic links: fast (target in the inode, < 60 bytes) and slow (in a block).
        try Posix.mkdir(path("symlinks"))
        for (name, target) in [("fast", "target"), ("fast-59", String(repeating: "a", count: 59)),
                               ("slow-60", String(repeating: "b", count: 60)), ("slow-61", String(repeating: "c", count: 61)),
                               ("slow-300", String(repeating: "d/", count: 150)), ("slow-1000", String(repeating: "e", count: 1000)),
                               ("dangling", "/nonexistent/path"), ("to-dir", "../links"), ("unicode", "café/日本語")] {
            try Posix.symlink(bytes(target), at: path("symlinks/\(name)"))
        }

        // FIFOs and sockets: shown, never opened.
        try Posix.mkdir(path("special"))
        try Posix.mkfifo(path("special/fifo"))
        try Posix.socketFile(path("special/socket"))

        // Odd names.
        try Posix.mkdir(path("names"))
        for (index, name) in oddNames.enumerated() {
            try Posix.writeFile(join(path("names"), name), content(index + 1, seed: 900 + UInt64(index)))
        }

        // Permission bits.
        try Posix.mkdir(path("modes"))
        // Mode 000 only as root: anyone else could not read the file back (nor could mke2fs).
        let none: mode_t = geteuid() == 0 ? 0o000 : 0o400
        for (name, mode) in [("setuid", 0o4755), ("setgid", 0o2750), ("none", none), ("all", 0o777), ("read-only", 0o444)] as [(String, mode_t)] {
            try file("modes/\(name)", 20)
            try Posix.chmod(path("modes/\(name)"), mode)
        }
        try Posix.mkdir(path("modes/sticky-dir"))
        try Posix.chmod(path("modes/sticky-dir"), 0o1777)

        // Extended attributes and POSIX ACLs, set by the real tools.
        try Posix.mkdir(path("xattr"))
        try file("xattr/user", 10)
        try Shell.check("setfattr", ["-n", "user.x", "-v", "hello", text(path("xattr/user"))])
        try Shell.check("setfattr", ["-n", "user.empty", text(path("xattr/user"))])
        try Shell.check("setfattr", ["-n", "user.binary", "-v", "0x00ff10fe", text(path("xattr/user"))])
        try file("xattr/many", 10)
        // More than an inode holds: the rest goes to an attribute block (1 KiB at the smallest).
        for index in 0 ..< 8 {
            try Shell.check("setfattr", ["-n", "user.attribute-\(index)", "-v", String(repeating: "v", count: 16 + index), text(path("xattr/many"))])
        }
        try Shell.check("setfattr", ["-n", "user.large", "-v", String(repeating: "L", count: 400), text(path("xattr/many"))])
        try file("xattr/acl", 10)
        try Shell.check("setfacl", ["-m", "u:1234:rwx,g:4321:r", text(path("xattr/acl"))])
        try Posix.mkdir(path("xattr/default-acl"))
        try Shell.check("setfacl", ["-d", "-m", "u:1234:rx", text(path("xattr/default-acl"))])
        try Posix.symlink(bytes("user"), at: path("xattr/link"))

        // Depth and emptiness.
        try Posix.mkdir(path("deep"))
        var deep = "deep"
        for letter in "abcdefgh" {
            deep += "/\(letter)"
            try Posix.mkdir(path(deep))
        }
        try file(deep + "/bottom", 33)
        try Posix.mkdir(path("empty-dir"))

        // Directories of many entries: more than one block (htree once indexed).
        if mediumDirectory > 0 {
            try Posix.mkdir(path("medium"))
            for index in 0 ..< mediumDirectory {
                try Posix.writeFile(path("medium/entry-\(index)"), index % 50 == 0 ? content(index, seed: UInt64(index)) : [])
            }
        }
        if bigDirectory > 0 {
            try Posix.mkdir(path("big"))
            for index in 0 ..< bigDirectory {
                try Posix.writeFile(path("big/\(index)"), [])
            }
        }

        // Timestamps last, directories bottom-up, so that creating children cannot move them.
        try stampTimes(root)
        // And with touch -d, nanoseconds included (mke2fs 1.47.0 keeps the seconds).
        try Posix.mkdir(path("times"))
        try file("times/touched", 5)
        try Shell.check("touch", ["-d", "2021-03-04 05:06:07.123456789", text(path("times/touched"))])
        try Posix.symlink(bytes("touched"), at: path("times/link"))
        try Shell.check("touch", ["-h", "-d", "1969-07-20 20:17:40", text(path("times/link"))])
        // (Not past 2038: mke2fs 1.47.0 -d drops the epoch bits of later times.)
        try Shell.check("touch", ["-d", "2037-12-31 23:59:59", text(path("times"))])
        // Owners beyond 16 bits where the test may set them (as root, as CI runs).
        if geteuid() == 0 {
            try Posix.check(lchown(Posix.cPath(path("times/touched")), 70000, 4_000_000_000), "lchown", path("times/touched"))
        }
        let attributePaths = ["xattr/user", "xattr/many", "xattr/acl", "xattr/default-acl", "files/one", "links/original", "special/fifo"].map(path)
        return SourceTree(root: root, sparse: sparse, attributePaths: attributePaths)
    }

    /// Gives every node a distinct mtime (with nanoseconds) and atime: seconds from 1.1.2000.
    private static func stampTimes(_ directory: [UInt8]) throws {
        var index = 0
        func stamp(_ path: [UInt8]) throws {
            index += 1
            try Posix.setTimes(path, accessed: 946_684_800 + index * 7, modified: 946_684_800 + index * 86_400 + 13,
                               nanoseconds: 1000 * index + 1)
        }
        func visit(_ path: [UInt8]) throws {
            for name in try Posix.list(path).sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                let child = join(path, name)
                let info = try Posix.lstat(child)
                if info.st_mode & S_IFMT == S_IFDIR { try visit(child) }
                try stamp(child)
            }
        }
        try visit(directory)
    }

    /// What `getfattr -d -m - -e hex -h` reports for `path`: name → value.
    static func attributes(of path: [UInt8]) throws -> [String: [UInt8]] {
        let output = try Tool.run("getfattr", ["-d", "-m", "-", "-e", "hex", "-h", "--absolute-names", text(path)])
        var attributes: [String: [UInt8]] = [:]
        for line in output.text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let equals = line.firstIndex(of: "=") else {
                attributes[String(line)] = []
                continue
            }
            let name = String(line[..<equals])
            var value = String(line[line.index(after: equals)...])
            guard value.hasPrefix("0x") else { throw TestFailure("getfattr value not hex: \(line)") }
            value.removeFirst(2)
            guard let decoded = Hex.decode(value) else { throw TestFailure("bad hex \(value)") }
            attributes[name] = decoded
        }
        return attributes
    }
}

