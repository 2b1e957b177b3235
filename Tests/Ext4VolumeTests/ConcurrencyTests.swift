import BlockDevices
import Dispatch
import Ext4Volume
import Synchronization
import TestSupport
import Testing
import VolumeModel

/// Many threads on one volume, as FUSE calls arrive: data reads run outside the libext2fs
/// lock, metadata calls inside it; every byte must still be right.
@Suite struct ConcurrencyTests {
    @Test func eightThreadsReadDifferentAndSameFiles() throws {
        let directory = try TemporaryDirectory("rpfs-ext4-threads")
        let large = (0 ..< 5).map { content(2_000_000 + $0 * 700_001, seed: 40 + UInt64($0)) }
        let small = (0 ..< 300).map { content(($0 * 37) % 5000, seed: 1000 + UInt64($0)) }
        let image = try makeImage(in: directory, size: "64M", options: ["-t", "ext4", "-b", "4096"]) { source in
            for (index, bytes) in large.enumerated() { try Posix.writeFile(join(source, Array("large-\(index)".utf8)), bytes) }
            try Posix.mkdir(join(source, Array("small".utf8)))
            for (index, bytes) in small.enumerated() { try Posix.writeFile(join(source, Array("small/\(index)".utf8)), bytes) }
            try Posix.writeFile(join(source, Array("sparse".utf8)), size: 9_000_000, pieces: [(4_000_000, large[0].prefix(100_000).map { $0 })])
            try Posix.symlink(Array(String(repeating: "t", count: 200).utf8), at: join(source, Array("link".utf8)))
        }
        let volume = try openVolume(image)
        let largeNodes = try (0 ..< large.count).map { index throws(VolumeError) in try volume.node(at: "large-\(index)") }
        let smallDirectory = try volume.node(at: "small")
        let sparse = try volume.node(at: "sparse")
        let link = try volume.node(at: "link")
        var sparseBytes = [UInt8](repeating: 0, count: 9_000_000)
        sparseBytes.replaceSubrange(4_000_000 ..< 4_100_000, with: large[0].prefix(100_000))
        let sparseExpected = sparseBytes

        let failures = Mutex<[String]>([])
        let operations = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            var random = SeededBytes(seed: 500 + UInt64(thread))
            func fail(_ message: String) { failures.withLock { $0.append("thread \(thread): \(message)") } }
            for step in 0 ..< 150 {
                do throws(VolumeError) {
                    switch random.int(below: 6) {
                    case 0, 1:
                        // Threads 0-3 share large-0; the others spread over all files.
                        let index = thread < 4 && step % 2 == 0 ? 0 : random.int(below: large.count)
                        let expected = large[index]
                        let offset = random.int(below: expected.count)
                        let count = 1 + random.int(below: 1 << 20)
                        let got = try volume.read(largeNodes[index], at: UInt64(offset), count: count)
                        if got != Array(expected[offset ..< min(offset + count, expected.count)]) { fail("large-\(index) at \(offset)") }
                    case 2:
                        let index = random.int(below: small.count)
                        let node = try volume.lookup(FileName(validating: "\(index)"), in: smallDirectory)
                        if try volume.readAll(node) != small[index] { fail("small/\(index)") }
                        if try volume.attributes(of: node).size != UInt64(small[index].count) { fail("small/\(index) size") }
                    case 3:
                        if try volume.entries(of: smallDirectory).count != small.count { fail("listing") }
                        if try volume.symlinkTarget(of: link) != [UInt8](repeating: UInt8(ascii: "t"), count: 200) { fail("link") }
                    case 4:
                        let offset = random.int(below: sparseExpected.count)
                        let count = 1 + random.int(below: 300_000)
                        let got = try volume.read(sparse, at: UInt64(offset), count: count)
                        if got != Array(sparseExpected[offset ..< min(offset + count, sparseExpected.count)]) { fail("sparse at \(offset)") }
                        if try volume.dataRanges(of: sparse) != [4_000_000 / 4096 * 4096 ..< (4_100_000 + 4095) / 4096 * 4096] { fail("ranges") }
                    default:
                        _ = try volume.extendedAttributes(of: largeNodes[random.int(below: large.count)])
                        _ = try volume.attributes(of: volume.rootNode)
                    }
                    operations.withLock { $0 += 1 }
                } catch {
                    fail("\(error)")
                }
            }
        }
        #expect(failures.withLock { $0 } == [])
        #expect(operations.withLock { $0 } == 8 * 150)
    }
}
