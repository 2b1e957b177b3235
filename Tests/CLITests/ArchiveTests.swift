import Foundation
import TestSupport
import Testing

/// A point of an unpartitioned ext4 that `mke2fs -d` built from a source tree with what
/// archives must carry: the VM tree (hard links, holes, xattrs, an ACL, setuid, symlinks,
/// a FIFO, owners), a device node, names that are not UTF-8 (short, and in a path too long
/// for ustar's fields), a binary xattr, a default ACL, and beside it a 5 GiB file of holes.
final class ArchivePoint: @unchecked Sendable {
    let cli: CLIFixture
    /// The tree archived, as /disk0/volume/tree.
    let tree: String
    /// A directory with a 5 GiB sparse file and a small file after it, as /disk0/volume/big.
    let big: String
    /// Files whose names are markup, quotes and line breaks, as /disk0/volume/hostile.
    let hostile: String
    let id: String

    init() throws {
        cli = try CLIFixture()
        let source = cli.directory.file("src")
        tree = "\(source)/tree"
        big = "\(source)/big"
        hostile = "\(source)/hostile"
        try VMSourceTree.build(at: tree)
        try FileManager.default.createDirectory(atPath: "\(tree)/names/\(String(repeating: "d", count: 90))", withIntermediateDirectories: true)
        // Through the shell: Foundation would turn bytes that are not UTF-8 into U+FFFD.
        try Shell.check("/bin/sh", ["-c", """
            cd '\(tree)/names' && printf 'latin-1\\n' > "$(printf 'caf\\351')" && \
            printf 'long\\n' > "\(String(repeating: "d", count: 90))/$(printf '\\377\\377\\377')-long-\(String(repeating: "n", count: 140))"
            """])
        try Shell.check("mknod", ["\(tree)/srv/null", "c", "1", "3"])
        try Shell.check("setfattr", ["-n", "user.binary", "-v", "0x000a3d25ff", "\(tree)/etc/empty"])
        try FileManager.default.createDirectory(atPath: "\(tree)/shared", withIntermediateDirectories: true)
        try Shell.check("setfacl", ["-d", "-m", "g:4321:r-x", "\(tree)/shared"])
        try FileManager.default.createDirectory(atPath: big, withIntermediateDirectories: true)
        try Shell.check("truncate", ["-s", "5G", "\(big)/holes.img"])
        try Shell.check("dd", ["if=/dev/urandom", "of=\(big)/holes.img", "bs=4096", "count=2", "seek=1000", "conv=notrunc", "status=none"])
        try Shell.check("/bin/sh", ["-c", "printf 'end of the disk\\n' >> '\(big)/holes.img'"])
        try Data("after the big one\n".utf8).write(to: URL(fileURLWithPath: "\(big)/later.txt"))
        try Shell.check("touch", ["-d", "2024-02-29 23:59:59 UTC", big, "\(big)/holes.img", "\(big)/later.txt"])

        try FileManager.default.createDirectory(atPath: hostile, withIntermediateDirectories: true)
        for name in Self.hostileNames { try Data("hostile\n".utf8).write(to: URL(fileURLWithPath: "\(hostile)/\(name)")) }

        let image = cli.directory.file("fs.img")
        try Shell.check("mke2fs", ["-q", "-F", "-t", "ext4", "-b", "4096", "-I", "256", "-d", source, image, "64M"])
        // mke2fs -d keeps whole seconds only; give one file nanoseconds (123456789 << 2).
        try Shell.check("debugfs", ["-w", "-R", "sif /tree/etc/hostname mtime_extra 0x1D6F3454", image])
        id = String(try cli.expectSuccess(["create", "--kek", "backup", "--disk", image, "--chunk-size", "64K"]).split(separator: "\n").last ?? "")
    }

    /// Names that would be markup, end an attribute, or start a header if not escaped.
    static let hostileNames = ["<script>alert(1)", "<img src=x onerror=alert(2)>", "quote\"d'name", "line\r\nSet-Cookie: stolen=1", "a&b<i>"]

    /// Damages the chunk object under the middle of /tree/srv/data/blob.bin (1 MiB: that
    /// chunk holds nothing else). Chunk objects are opaque: each is damaged in turn until
    /// verify names the chunk debugfs says holds the file's block.
    func damageBlobChunk() throws {
        let image = cli.directory.file("fs.img")
        let start = try Shell.check("debugfs", ["-R", "bmap /tree/srv/data/blob.bin 128", image]).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let block = UInt64(start) else { throw TestFailure("debugfs bmap: \(start)") }
        let chunkIndex = block * 4096 / 65536
        let chunksRoot = cli.directory.file("store/chunks")
        for object in try FileManager.default.subpathsOfDirectory(atPath: chunksRoot).filter({ $0.count == 67 }) {
            let path = "\(chunksRoot)/\(object)"
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes[30] ^= 0xFF
            try bytes.write(to: URL(fileURLWithPath: path))
            if try cli.run(["verify", id]).stdout.contains("chunk \(chunkIndex) ") { return }
            bytes[30] ^= 0xFF
            try bytes.write(to: URL(fileURLWithPath: path))
        }
        throw TestFailure("no chunk object covers chunk \(chunkIndex)")
    }

    func archive(_ path: String, _ format: String, to output: String) throws -> CommandResult {
        try cli.run(["cp", "\(id):/disk0/volume/\(path)", "--archive", format, "--output", output])
    }
}

/// tests/Tools/archive-check.py: the independent comparison with the source tree.
func archiveCheck(_ arguments: [String]) throws -> CommandResult {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Tools/archive-check.py").path
    return try Shell.run(try PythonTools.shared.executable, [script] + arguments)
}

@Suite struct ArchiveTests {
    @Test func gnuTarExtractsTheSourceTree() throws {
        let point = try ArchivePoint()
        let tar = point.cli.directory.file("tree.tar")
        let result = try point.archive("tree", "tar", to: tar)
        #expect(result.status == 0, "\(result.stderr)")
        // GNU tar reads every member, lists hard links as links and the device with its numbers.
        // Names go in byte order, so srv/blob-hardlink.bin comes first and data/blob.bin links to it.
        let listing = try Shell.run("tar", ["--list", "-v", "--numeric-owner", "-f", tar])
        #expect(listing.status == 0, "\(listing.stderr)")
        #expect(listing.stdout.contains("tree/srv/data/blob.bin link to tree/srv/blob-hardlink.bin"), "\(listing.stdout)")
        #expect(listing.stdout.contains("1,3"))
        #expect(listing.stdout.contains("tree/etc/host-link -> hostname"))
        let extracted = point.cli.directory.file("extracted")
        try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: false)
        let untar = try Shell.run("tar", ["-x", "--xattrs", "--xattrs-include=*", "--acls", "--numeric-owner", "-C", extracted, "-f", tar])
        #expect(untar.status == 0 && untar.stderr.isEmpty, "\(untar.stderr)")
        let check = try archiveCheck(["tree", point.tree, "\(extracted)/tree"])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(lstatOf("\(extracted)/tree/etc/hostname")?.st_mtim.tv_nsec == 123_456_789, "nanoseconds set with debugfs")
    }

    @Test func pythonsZipfileReadsTheSourceTree() throws {
        let point = try ArchivePoint()
        let zip = point.cli.directory.file("tree.zip")
        let result = try point.archive("tree", "zip", to: zip)
        #expect(result.status == 0, "\(result.stderr)")
        // The FIFO and the device node are named as left out; everything else is in the zip.
        #expect(result.stderr.contains("srv/pipe: left out"), "\(result.stderr)")
        #expect(result.stderr.contains("srv/null: left out"), "\(result.stderr)")
        let check = try archiveCheck(["zip", zip, point.tree, "tree"])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    }

    /// A 5 GiB file of holes needs ZIP64 (its size, and the offset of the member after it):
    /// Python reads both back byte for byte. The holes cost neither reads nor disk space.
    @Test func zip64CarriesAFileOverFourGiB() throws {
        let point = try ArchivePoint()
        let zip = point.cli.directory.file("big.zip")
        let result = try point.archive("big", "zip", to: zip)
        #expect(result.status == 0, "\(result.stderr)")
        let info = try #require(lstatOf(zip))
        #expect(info.st_size > 5 << 30 && info.st_blocks * 512 < 64 << 20, "size \(info.st_size), \(info.st_blocks) blocks")
        let check = try archiveCheck(["zip", zip, point.big, "big"])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        // The same folder as tar: a GNU sparse member GNU tar restores with its holes.
        let tar = point.cli.directory.file("big.tar")
        #expect(try point.archive("big", "tar", to: tar).status == 0)
        #expect((lstatOf(tar)?.st_size ?? .max) < 1 << 20)
        let extracted = point.cli.directory.file("big-extracted")
        try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: false)
        #expect(try Shell.run("tar", ["-x", "-C", extracted, "-f", tar]).status == 0)
        let tree = try archiveCheck(["tree", point.big, "\(extracted)/big"])
        #expect(tree.status == 0, "\(tree.stdout)\(tree.stderr)")
    }

    @Test func standardOutputCarriesTheArchive() throws {
        let point = try ArchivePoint()
        let piped = try Shell.run("/bin/sh", ["-c", "'\(rpfsBinary)' cp '\(point.id):/disk0/volume/tree/etc' --archive tar --output - | tar -t -v -f -"],
                                  environment: point.cli.environment)
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(piped.stdout.contains("etc/hostname") && piped.stdout.contains("etc/host-link -> hostname"), "\(piped.stdout)")
    }

    @Test func optionsAreCheckedAndAnExistingFileIsKeptUnlessForced() throws {
        let point = try ArchivePoint()
        let output = point.cli.directory.file("kept.zip")
        try Data("mine".utf8).write(to: URL(fileURLWithPath: output))
        #expect(try point.archive("tree/etc", "zip", to: output).status == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == Data("mine".utf8))
        #expect(try point.cli.run(["cp", "\(point.id):/disk0/volume/tree/etc", "--archive", "zip", "--output", output, "--force"]).status == 0)
        #expect(try Shell.run("python3", ["-m", "zipfile", "-t", output]).status == 0)
        #expect(try point.cli.run(["cp", "\(point.id):/disk0/volume/tree", "--archive", "rar", "--output", output]).status == 2)
        #expect(try point.cli.run(["cp", "\(point.id):/disk0/volume/tree", "--archive", "tar"]).status == 2)
        #expect(try point.cli.run(["cp", "\(point.id):/disk0/volume/tree", "dest", "--archive", "tar", "--output", output]).status == 2)
        #expect(try point.cli.run(["cp", "\(point.id):/disk0/volume/tree", "dest", "--output", output]).status == 2)
    }

    /// A damaged chunk under a file's data ends the archive with the damage's status, naming
    /// the file: no file under the --output name, and on standard output an archive that
    /// GNU tar refuses as cut short.
    @Test func damagedChunkEndsTheArchiveWithAnError() throws {
        let point = try ArchivePoint()
        try point.damageBlobChunk()
        for format in ["zip", "tar"] {
            let output = point.cli.directory.file("damaged.\(format)")
            let result = try point.archive("tree/srv", format, to: output)
            #expect(result.status == 5, "\(result.stderr)")
            // The file's first name in byte order: blob-hardlink.bin, a link of blob.bin.
            #expect(result.stderr.contains("/disk0/volume/tree/srv/blob-hardlink.bin"), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: output))
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: point.cli.directory.path).filter { $0.contains(".rpfs-") }
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
        let piped = point.cli.directory.file("piped.tar")
        let status = try Shell.run("/bin/sh", ["-c", "'\(rpfsBinary)' cp '\(point.id):/disk0/volume/tree/srv' --archive tar --output - > '\(piped)'"],
                                   environment: point.cli.environment)
        #expect(status.status == 5, "\(status.stderr)")
        #expect(try Shell.run("tar", ["-t", "-f", piped]).status != 0, "a cut-short tar must not list cleanly")
    }
}
