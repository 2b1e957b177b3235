import Foundation
import KeyManagement
import RecoveryPoint

/// A fresh directory under /tmp (or `parent`), removed when the value is released.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init(_ label: String = "rpfs-test", in parent: String? = nil) throws {
        let template = (parent.map { "\($0)/" } ?? NSTemporaryDirectory()) + "\(label)-XXXXXX"
        var bytes = Array(template.utf8CString)
        guard mkdtemp(&bytes) != nil else { throw CocoaError(.fileWriteUnknown) }
        path = String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    public func file(_ name: String) -> String { "\(path)/\(name)" }

    /// A sparse file of `size` bytes.
    public func image(_ name: String, size: UInt64) throws -> String {
        let target = file(name)
        guard FileManager.default.createFile(atPath: target, contents: nil) else { throw TestFailure("cannot create \(target)") }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: target))
        try handle.truncate(atOffset: size)
        try handle.close()
        return target
    }

    /// A fixture from `fixtures/<folder>/<name>.zst`, unpacked here with zstd.
    public func fixture(_ folder: String, _ name: String) throws -> String {
        let target = file(name)
        try Shell.check("zstd", ["-q", "-d", "-f", "\(repositoryRoot)/fixtures/\(folder)/\(name).zst", "-o", target])
        return target
    }

    public func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let target = file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        return target
    }
}

/// Result of running a command.
public struct CommandResult: Sendable {
    public let status: Int32
    /// Standard output as bytes: tools like fls print names as stored, not necessarily UTF-8.
    public let output: [UInt8]
    public let stderr: String

    public var stdout: String { String(decoding: output, as: UTF8.self) }
}

public enum Shell {
    /// Runs `executable` with `arguments`; never through a shell, so names are not reinterpreted.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, input: String? = nil) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : try which(executable))
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let stdin = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        // Drain stderr on another thread so that neither pipe can fill and block the tool.
        let errorHandle = err.fileHandleForReading
        let errorData = ErrorSink()
        let group = DispatchGroup()
        group.enter()
        Thread.detachNewThread {
            errorData.data = errorHandle.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, output: [UInt8](outData),
                             stderr: String(decoding: errorData.data, as: UTF8.self))
    }

    /// Written by the draining thread before `group.leave()`, read after `group.wait()`.
    private final class ErrorSink: @unchecked Sendable {
        var data = Data()
    }

    /// Runs a command that must succeed; throws with its stderr otherwise.
    @discardableResult
    public static func check(_ executable: String, _ arguments: [String], input: String? = nil) throws -> String {
        let result = try run(executable, arguments, input: input)
        guard result.status == 0 else {
            throw TestFailure("\(executable) \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        return result.stdout
    }

    public static func which(_ name: String) throws -> String {
        for directory in ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw TestFailure("\(name) is not installed (CI installs it: see .ci/run)")
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Deterministic pseudo-random bytes (xorshift), so a failing test can be re-run exactly.
public struct SeededBytes {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed
    }

    public mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    public mutating func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(count + 8)
        while out.count < count {
            withUnsafeBytes(of: next().littleEndian) { out.append(contentsOf: $0) }
        }
        return Array(out.prefix(count))
    }

    public mutating func int(below bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

/// Builds a disk image with data, holes, repeated chunks and a short last chunk.
public enum ImageBuilder {
    /// Returns the image bytes: `chunks` chunks of `chunkSize`, then `tail` extra bytes.
    /// By chunk index modulo 6: 1 is all zero (a hole), 3 repeats chunk 0 (dedup),
    /// 4 is zero but for its last byte (must be stored), the rest random.
    public static func mixed(chunkSize: Int, chunks: Int, tail: Int, seed: UInt64 = 1) -> [UInt8] {
        var random = SeededBytes(seed: seed)
        let first = random.bytes(chunkSize)
        var image = [UInt8]()
        image.reserveCapacity(chunkSize * chunks + tail)
        for index in 0 ..< chunks {
            switch index % 6 {
            case 0 where index == 0, 3: image += first
            case 1: image += [UInt8](repeating: 0, count: chunkSize)
            case 4: image += [UInt8](repeating: 0, count: chunkSize - 1) + [1]
            default: image += random.bytes(chunkSize)
            }
        }
        return image + random.bytes(tail)
    }

    public static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
}

/// Reproducible damage to a volume image, of the kinds storage and bad writes cause.
public enum ImageDamage {
    public static let sectorSize = 512

    /// Offsets of the `blockSize`-byte blocks that hold anything (not all zero): damage to
    /// free space changes nothing, so sweeps aim here.
    public static func usedBlocks(_ image: [UInt8], blockSize: Int) -> [Int] {
        stride(from: 0, to: image.count - blockSize + 1, by: blockSize).filter { start in
            image[start ..< start + blockSize].contains { $0 != 0 }
        }
    }

    /// What a sweep saw: how many damaged volumes still opened, and how many file reads
    /// (over all of them) returned the file's original bytes.
    public struct SweepResult {
        public let rounds: Int
        public let files: Int
        public var opened = 0
        public var intactReads = 0
        /// Damage after which more files read than the pristine volume has.
        public var inventedFiles: [[String]] = []

        /// Damage must stay local: most damaged volumes still open, most files in them still
        /// read with their own bytes, and none gains files.
        public var problems: [String] {
            var problems: [String] = []
            if opened <= rounds / 2 { problems.append("only \(opened) of \(rounds) damaged volumes opened") }
            if intactReads <= opened * files / 2 { problems.append("\(intactReads) intact reads over \(opened) volumes of \(files) files") }
            problems += inventedFiles.map { "more files than the volume holds after \($0)" }
            return problems
        }
    }

    /// `rounds` copies of `pristine`, each damaged in 1-6 places among its used blocks, through
    /// `exercise`, which walks the volume and returns the files that read completely by node
    /// (nil when the volume does not open). `original` is what it returned for `pristine`.
    public static func sweep(_ pristine: [UInt8], original: [UInt64: [UInt8]], blockSize: Int, rounds: Int, seed: UInt64,
                             exercise: ([UInt8]) -> [UInt64: [UInt8]]?) -> SweepResult {
        let blocks = usedBlocks(pristine, blockSize: blockSize)
        var random = SeededBytes(seed: seed)
        var result = SweepResult(rounds: rounds, files: original.count)
        for _ in 0 ..< rounds {
            var bytes = pristine
            let damage = apply(to: &bytes, blocks: blocks, blockSize: blockSize, hits: 1 + random.int(below: 6), random: &random)
            guard let contents = exercise(bytes) else { continue }
            result.opened += 1
            result.intactReads += contents.filter { original[$0.key] == $0.value }.count
            // A damaged directory may name a few stray nodes (old inodes, metafiles); many
            // more files than the volume holds means the reader invents them.
            if contents.count > original.count + 16 { result.inventedFiles.append(damage) }
        }
        return result
    }

    /// Damages `hits` places inside `blocks`; returns what was done, for failure messages.
    public static func apply(to image: inout [UInt8], blocks: [Int], blockSize: Int, hits: Int, random: inout SeededBytes) -> [String] {
        var done: [String] = []
        for _ in 0 ..< hits {
            let offset = blocks[random.int(below: blocks.count)] + random.int(below: blockSize)
            let sector = offset - offset % sectorSize
            switch random.int(below: 6) {
            case 0:
                image[offset] ^= UInt8(1 << random.int(below: 8))
                done.append("bit flip at \(offset)")
            case 1:
                image[offset] = [0x00, 0xFF, 0x7F, 0x80][random.int(below: 4)]
                done.append("extreme byte at \(offset)")
            case 2:
                image.replaceSubrange(sector ..< sector + sectorSize, with: repeatElement(0, count: sectorSize))
                done.append("sector zeroed at \(sector)")
            case 3:
                // A misdirected write: another sector's bytes land here.
                let source = blocks[random.int(below: blocks.count)] / sectorSize * sectorSize
                image.replaceSubrange(sector ..< sector + sectorSize, with: Array(image[source ..< source + sectorSize]))
                done.append("sector \(source) copied to \(sector)")
            case 4:
                let count = min(1 + random.int(below: 64), image.count - offset)
                image.replaceSubrange(offset ..< offset + count, with: random.bytes(count))
                done.append("\(count) random bytes at \(offset)")
            default:
                // Widen a little-endian field: the low byte of a length or count becomes large.
                let count = min(4, image.count - offset)
                image.replaceSubrange(offset ..< offset + count, with: repeatElement(0xFF, count: count))
                done.append("\(count) bytes of 0xFF at \(offset)")
            }
        }
        return done
    }
}

/// Inputs a fuzz target (Fuzz/) crashed on before the fix, kept zstd-compressed in
/// `fixtures/fuzz-regressions/<target>/`; each test feeds them through its target's entry point.
public enum FuzzRegressions {
    public static func inputs(_ target: String) throws -> [(name: String, bytes: [UInt8])] {
        let folder = "\(repositoryRoot)/fixtures/fuzz-regressions/\(target)"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".zst") }.sorted()
        return try names.map { name in
            let result = try Shell.run("zstd", ["-q", "-d", "-c", "\(folder)/\(name)"])
            guard result.status == 0 else { throw TestFailure("zstd -d \(name): \(result.stderr)") }
            return (String(name.dropLast(4)), result.output)
        }
    }
}

/// A keyring with one KEK, made once per test with small keys to keep tests quick.
public enum TestKeys {
    public static func keyring(in directory: TemporaryDirectory, name: String = "backup", versions: Int = 1) throws -> KeyringDirectory {
        let keyring = KeyringDirectory(path: directory.file("keys"))
        for _ in 0 ..< versions {
            _ = try keyring.createVersion(of: name, bits: 2048)
        }
        return keyring
    }
}

/// The repository root, found from this file's location.
public let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    while url.path != "/" {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
    }
    return FileManager.default.currentDirectoryPath
}()

/// NTFS volumes made by the real tools: mkntfs, then filled through an ntfs-3g mount.
public enum NTFSImageBuilder {
    /// A new NTFS image filled through ntfs-3g by a bash script that gets the mount point as $1.
    /// `mountOptions` go to ntfs-3g (`streams_interface=windows` makes "file:stream" names).
    public static func make(in directory: TemporaryDirectory, name: String = "ntfs.img", size: UInt64, cluster: Int,
                     label: String = "rpfs-test", mountOptions: String = "defaults", fill script: String) throws -> String {
        let image = try directory.image(name, size: size)
        try Shell.check("mkntfs", ["-F", "-Q", "-q", "-c", String(cluster), "-L", label, image])
        let mountPoint = directory.file("mnt-\(name)")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        // One script mounts, fills and unmounts. The ntfs-3g daemon must not inherit the
        // pipes Shell.run reads to their end, or the read never finishes.
        let wrapper = """
        ntfs-3g "$1" "$2" -o "$4" </dev/null >/dev/null 2>&1
        status=0
        bash -eu -c "$3" fill "$2" </dev/null || status=$?
        sync
        fusermount -u "$2" </dev/null >/dev/null 2>&1 || umount "$2"
        # ntfs-3g finishes writing as it exits: wait for it (at most 10 s).
        for _ in $(seq 1 100); do pgrep -f "ntfs-3g $1 " >/dev/null || break; sleep 0.1; done
        exit $status
        """
        let result = try Shell.run("bash", ["-c", wrapper, "wrapper", image, mountPoint, script, mountOptions])
        guard result.status == 0 else { throw TestFailure("filling \(image) through ntfs-3g failed: \(result.stderr)") }
        return image
    }

}

/// XFS volumes made by the real tools: mkfs.xfs, then filled through the kernel's XFS.
public enum XFSImageBuilder {
    /// A new XFS image made with `mkfsOptions` and filled, through a loop mount, by a python3
    /// script that gets the mount point as sys.argv[1]; unmounted (its log clean) on return.
    public static func make(in directory: TemporaryDirectory, name: String = "xfs.img", size: UInt64, mkfsOptions: [String] = [],
                            fill script: String) throws -> String {
        let image = try directory.image(name, size: size)
        let mountPoint = directory.file("mnt-\(name)")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        // The fstests variables lift mkfs.xfs's 300 MB minimum: small images for damage sweeps.
        let wrapper = """
        TEST_DIR=/tmp TEST_DEV="$1" QA_CHECK_FS=1 mkfs.xfs -q -L rpfs-test "${@:4}" "$1"
        mount -o loop "$1" "$2"
        status=0
        python3 -c "$3" "$2" </dev/null || status=$?
        umount "$2"
        exit $status
        """
        let result = try Shell.run("bash", ["-c", wrapper, "wrapper", image, mountPoint, script] + mkfsOptions)
        guard result.status == 0 else { throw TestFailure("filling \(image) through the kernel's XFS failed: \(result.stderr)") }
        return image
    }

    /// Runs `body` with the image mounted read-only by the kernel (the oracle), then unmounts.
    public static func withKernelMount<T>(_ image: String, in directory: TemporaryDirectory, _ body: (String) throws -> T) throws -> T {
        let mountPoint = directory.file("ro-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        try Shell.check("mount", ["-o", "loop,ro,norecovery", image, mountPoint])
        defer { _ = try? Shell.run("umount", [mountPoint]) }
        return try body(mountPoint)
    }
}
