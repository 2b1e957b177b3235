import Foundation
import KeyManagement
import RecoveryPoint

/// A fresh directory under /tmp, removed when the value is released.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init(_ label: String = "rpfs-test") throws {
        let template = NSTemporaryDirectory() + "\(label)-XXXXXX"
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
    public static func make(in directory: TemporaryDirectory, name: String = "ntfs.img", size: UInt64, cluster: Int,
                     label: String = "rpfs-test", fill script: String) throws -> String {
        let image = try directory.image(name, size: size)
        try Shell.check("mkntfs", ["-F", "-Q", "-q", "-c", String(cluster), "-L", label, image])
        let mountPoint = directory.file("mnt-\(name)")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        // One script mounts, fills and unmounts. The ntfs-3g daemon must not inherit the
        // pipes Shell.run reads to their end, or the read never finishes.
        let wrapper = """
        ntfs-3g "$1" "$2" </dev/null >/dev/null 2>&1
        status=0
        bash -eu -c "$3" fill "$2" </dev/null || status=$?
        sync
        fusermount -u "$2" </dev/null >/dev/null 2>&1 || umount "$2"
        # ntfs-3g finishes writing as it exits: wait for it (at most 10 s).
        for _ in $(seq 1 100); do pgrep -f "ntfs-3g $1 " >/dev/null || break; sleep 0.1; done
        exit $status
        """
        let result = try Shell.run("bash", ["-c", wrapper, "wrapper", image, mountPoint, script])
        guard result.status == 0 else { throw TestFailure("filling \(image) through ntfs-3g failed: \(result.stderr)") }
        return image
    }

}
