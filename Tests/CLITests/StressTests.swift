import Dispatch
import Foundation
import TestSupport
import Testing

/// How long the readers run: short in the suite, `RPFS_STRESS_SECONDS=600 swift test --filter
/// thirtyTwoReaders` for a long run.
private let stressSeconds = Double(ProcessInfo.processInfo.environment["RPFS_STRESS_SECONDS"] ?? "") ?? 20
private let readerCount = 32

/// What the readers saw: wrong bytes are always a failure; errors (short reads included) only
/// count before the daemon is told to stop.
private final class ReaderLog: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var reads = 0
    private(set) var bytes = 0
    private(set) var wrong: [String] = []
    private(set) var errors: [String] = []

    func read(_ count: Int) { lock.withLock { reads += 1; bytes += count } }
    func wrongBytes(_ what: String) { lock.withLock { wrong.append(what) } }
    func error(_ what: String) { lock.withLock { errors.append(what) } }
}

/// One reader: files opened in turn, read whole in 128 KiB pieces (sequential, so the daemon
/// reads ahead) or by random preads, every byte compared with the source; then the file's
/// page cache is dropped so the next reader goes to the daemon again, not to the kernel.
private func readUntil(_ stop: @escaping @Sendable () -> Bool, files: [(path: String, bytes: [UInt8])], seed: UInt64, log: ReaderLog) {
    var random = SeededBytes(seed: seed)
    var buffer = [UInt8](repeating: 0, count: 256 << 10)
    while !stop() {
        let file = files[random.int(below: files.count)]
        let fd = open(file.path, O_RDONLY)
        guard fd >= 0 else {
            log.error("open \(file.path): errno \(errno)")
            return
        }
        defer { close(fd) }
        let sequential = random.int(below: 2) == 0
        var offset = 0
        for _ in 0 ..< (sequential ? Int.max : 16) {
            if !sequential { offset = random.int(below: max(file.bytes.count, 1)) }
            let want = sequential ? 128 << 10 : 1 + random.int(below: buffer.count)
            let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(offset)) }
            guard got >= 0 else {
                log.error("pread \(file.path) at \(offset): errno \(errno)")
                return
            }
            let expected = file.bytes[min(offset, file.bytes.count) ..< min(offset + want, file.bytes.count)]
            if !buffer[0 ..< got].elementsEqual(expected.prefix(got)) {
                let first = zip(buffer[0 ..< got], expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? got
                log.wrongBytes("\(file.path): \(got) bytes at \(offset) differ from the source from byte \(first)")
            } else if got < expected.count {
                // Correct bytes, but fewer than the file holds there: only a dying mount may do that.
                log.error("pread \(file.path) at \(offset): \(got) of \(expected.count) bytes")
                return
            }
            log.read(got)
            if sequential {
                if got == 0 { break }
                offset += got
            }
        }
        posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED))
    }
}

/// Starts `readerCount` reader threads (real threads: the readers block in the kernel, and
/// Dispatch would run only one per core); the group is left as each one ends.
private func startReaders(_ files: [(path: String, bytes: [UInt8])], log: ReaderLog, stop: @escaping @Sendable () -> Bool) -> DispatchGroup {
    let group = DispatchGroup()
    for reader in 0 ..< readerCount {
        group.enter()
        Thread.detachNewThread {
            readUntil(stop, files: files, seed: UInt64(reader + 1), log: log)
            group.leave()
        }
    }
    return group
}

/// `VmHWM` (peak resident memory), `VmRSS` or `VmLck` (locked) of a process, in bytes.
private func memory(_ pid: Int32, _ field: String) throws -> Int {
    let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    let line = try #require(status.split(separator: "\n").first { $0.hasPrefix(field + ":") })
    let kilobytes = try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
    return kilobytes * 1024
}

extension MountTests {
    /// 32 readers over a real mount with a 1 MiB chunk cache (16 chunks: constant eviction and
    /// reload), every byte checked against the source; the daemon's memory stays bounded; then
    /// an unmount while all 32 are reading: refused as busy or done, and SIGTERM ends the
    /// mount with readers getting errors, never wrong bytes, and nobody hanging.
    @Test func thirtyTwoReadersUnderASmallCacheThenUnmountDuringReads() throws {
        let point = try Ext4Point()
        let mount = try Mounted(point, extra: ["--cache-size", "1M"])
        defer { try? mount.unmount() }
        let files = try ["srv/data/blob.bin", "srv/blob-hardlink.bin", "srv/data/sparse.img", "etc/hostname",
                         "home/alice/Documents/café ☕.txt"].map { relative in
            (path: "\(mount.root)/\(relative)", bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(point.source)/\(relative)"))))
        }
        // Whatever the backup holds, the mount gives nobody privileges (docs/SECURITY.md).
        let entry = try #require(try String(contentsOfFile: "/proc/mounts", encoding: .utf8).split(separator: "\n").first { $0.contains(" \(mount.path) ") })
        #expect(entry.contains("nosuid") && entry.contains("nodev"), "\(entry)")
        let daemon = try #require(try Shell.check("pgrep", ["-f", "rpfs mount \(point.id)"]).split(separator: "\n").compactMap { Int32($0) }.first)
        // The daemon holds the point's keys for its whole life, in its locked secure heap.
        #expect(try memory(daemon, "VmLck") >= 256 << 10, "the daemon's keys are not locked in RAM")

        let log = ReaderLog()
        let start = Date()
        let group = startReaders(files, log: log) { Date().timeIntervalSince(start) > stressSeconds }
        Thread.sleep(forTimeInterval: min(3, stressSeconds / 4))
        let warm = try memory(daemon, "VmHWM")
        #expect(group.wait(timeout: .now() + stressSeconds + 60) == .success, "readers still running long after the deadline")
        let peak = try memory(daemon, "VmHWM")
        #expect(log.wrong.isEmpty, "\(log.wrong.prefix(5))")
        #expect(log.errors.isEmpty, "\(log.errors.prefix(5))")
        #expect(log.reads > 100, "only \(log.reads) reads")
        // Memory is the cache bound plus the chunks in flight (readers and read-ahead) plus
        // libfuse's request buffers: tens of MiB, and it must not grow with time.
        #expect(peak < 96 << 20, "daemon peak RSS \(peak >> 20) MiB")
        #expect(peak - warm < 32 << 20, "daemon peak RSS grew from \(warm >> 20) to \(peak >> 20) MiB while reading")
        print("stress: \(log.reads) reads, \(log.bytes >> 20) MiB in \(Int(stressSeconds)) s; daemon peak RSS \(peak >> 20) MiB")

        // Unmount while 32 readers hold files open and are reading.
        let stopping = ReaderLog()
        let busyGroup = startReaders(files, log: stopping) { false }
        Thread.sleep(forTimeInterval: 1)
        let unmount = try point.cli.run(["unmount", mount.path])
        #expect(unmount.status == 0 || unmount.stderr.contains("busy"), "rpfs unmount: \(unmount.status) \(unmount.stderr)")
        kill(daemon, SIGTERM)
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline, try isMounted(mount.path) || kill(daemon, 0) == 0 { usleep(50_000) }
        #expect(try !isMounted(mount.path), "still mounted after SIGTERM")
        #expect(kill(daemon, 0) != 0, "daemon still running after SIGTERM")
        #expect(busyGroup.wait(timeout: .now() + 15) == .success, "readers hung after the mount went away")
        #expect(stopping.wrong.isEmpty, "\(stopping.wrong.prefix(5))")
        #expect(stopping.reads > 0)
    }
}
