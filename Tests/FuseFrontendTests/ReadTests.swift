#if canImport(Glibc)
import Glibc
#endif
@testable import FuseFrontend
import PointTestSupport
import TestSupport
import Testing

/// open, read, the page-cache window decision, and lseek.
@Suite struct ReadTests {
    @Test func readsEqualTheSourceFile() throws {
        let harness = try Harness.shared()
        let number = try harness.number("srv/data/blob.bin")
        let original = try Source.bytes(harness.source("srv/data/blob.bin"))
        guard case .open(nil, true) = harness.filesystem.open(number, flags: O_RDONLY) else { throw TestFailure("open") }
        for size in [4096, 100_000, 128 << 10, 1 << 20, (1 << 20) + 4096] {
            var copy: [UInt8] = []
            while copy.count < original.count {
                copy += try harness.read(number, at: copy.count, count: size).bytes
            }
            #expect(copy == original, "pieces of \(size)")
        }
        // Across the end: what is there; past it: nothing.
        #expect(try harness.read(number, at: original.count - 10, count: 4096).bytes == Array(original.suffix(10)))
        #expect(try harness.read(number, at: original.count, count: 4096).bytes.isEmpty)
        #expect(try harness.read(number, at: original.count + 12345, count: 4096).bytes.isEmpty)
    }

    @Test func holesReadAsZerosAndSeekFindsThem() throws {
        let harness = try Harness.shared()
        let number = try harness.number("srv/data/sparse.img")
        let original = try Source.bytes(harness.source("srv/data/sparse.img"))
        let dataStart = 256 * 4096
        #expect(try harness.read(number, at: 4096, count: 65536).bytes == [UInt8](repeating: 0, count: 65536))
        #expect(try harness.read(number, at: dataStart - 100, count: 8192).bytes == Array(original[dataStart - 100 ..< dataStart + 8092]))
        // SEEK_DATA (3) and SEEK_HOLE (4), where the source has its data.
        #expect(harness.filesystem.lseek(number, offset: 0, whence: 3).offset == off_t(dataStart))
        #expect(harness.filesystem.lseek(number, offset: 0, whence: 4).offset == 0)
        #expect(harness.filesystem.lseek(number, offset: off_t(dataStart + 10), whence: 4).offset == off_t(dataStart + 4096))
        #expect(harness.filesystem.lseek(number, offset: off_t(dataStart + 4096), whence: 3).offset == off_t(original.count - 4096))
        #expect(harness.filesystem.lseek(number, offset: off_t(original.count), whence: 3).errno == ENXIO)
        #expect(harness.filesystem.lseek(number, offset: 0, whence: 0).errno == EINVAL)
    }

    /// Small reads fill the chunk-sized window around them, unless the reply already ended the
    /// file; read-ahead-sized reads fill nothing. The fill stores the file's own bytes.
    @Test func smallReadsChooseTheWindowAroundThem() throws {
        let harness = try Harness.shared()
        let chunk = UInt64(TreePoint.chunkSize)
        let blob = try harness.number("srv/data/blob.bin")
        let original = try Source.bytes(harness.source("srv/data/blob.bin"))
        var stored: [UInt64: [UInt8]] = [:]
        let read = try harness.read(blob, at: 70000, count: 4096) { offset, bytes in
            stored[offset] = Array(bytes)
            return true
        }
        #expect(read.window == chunk ..< 2 * chunk)
        #expect(stored.sorted { $0.key < $1.key }.flatMap(\.value) == Array(original[Int(chunk) ..< Int(2 * chunk)]))
        #expect(try harness.read(blob, at: 0, count: 4096).window == 0 ..< chunk)
        #expect(try harness.read(blob, at: 0, count: PageCacheWindow.largestSmallRead).window == nil)
        // A small file read whole: the reply carried all there is.
        #expect(try harness.read(try harness.number("srv/small.bin"), at: 0, count: 4096).window == nil)
        // A read ending the file that began inside a window still fills what lies before it;
        // the window's tail past the file's end is not stored (it would extend the file).
        stored = [:]
        let last = UInt64(original.count) / chunk * chunk
        #expect(try harness.read(blob, at: Int(last) + 1, count: 4096) { offset, bytes in
            stored[offset] = Array(bytes)
            return true
        }.window == last ..< last + chunk)
        #expect(stored.flatMap(\.value) == Array(original[Int(last)...]))
    }

    /// A read's bytes are a view into a pooled 1 MiB buffer, which the next read reuses.
    @Test func readsReuseTheirReplyBuffer() throws {
        let harness = try Harness.shared()
        let number = try harness.number("srv/small.bin")
        var buffers: Set<UnsafeMutableRawPointer?> = []
        for _ in 0 ..< 3 {
            guard case let .data(read) = harness.filesystem.read(number, size: 4096, offset: 0) else { throw TestFailure("read") }
            #expect(read.buffer.count == ReplyBuffers.size)
            buffers.insert(read.buffer.baseAddress)
            harness.filesystem.finish(read) { _, _ in false }
        }
        #expect(buffers.count == 1)
    }
}

extension FuseReply {
    var offset: off_t? {
        if case let .offset(offset) = self { return offset }
        return nil
    }
}
