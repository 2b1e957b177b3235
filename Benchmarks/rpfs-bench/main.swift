// rpfs-bench: throughput of the recovery-point layer, in-process.
//
//   rpfs-bench WORKDIR [SIZE_MIB]
//
// Makes a keyring and a SIZE_MIB (default 1024) image of random data in WORKDIR, then reports
// `create` throughput, sequential and 4 KiB random read throughput of the decrypted disk,
// peak RSS, and the time to open a point of a 4 TiB sparse disk. Benchmarks/run puts these
// beside `openssl speed -evp aes-256-gcm` from the same run.
import BlockDevices
import Foundation
import KeyManagement
import PointDisk
import RecoveryPoint

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func peakRSSMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

func writeRandomImage(_ path: String, mib: Int) throws {
    guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
        throw CocoaError(.fileWriteUnknown)
    }
    var state: UInt64 = 0x1234_5678_9ABC_DEF1
    var block = [UInt64](repeating: 0, count: (1 << 20) / 8)
    for _ in 0 ..< mib {
        for index in block.indices {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            block[index] = state
        }
        handle.write(block.withUnsafeBytes { Data($0) })
    }
    try handle.close()
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: rpfs-bench WORKDIR [SIZE_MIB]\n".utf8))
    exit(2)
}
let work = arguments[1]
let mib = arguments.count > 2 ? Int(arguments[2]) ?? 1024 : 1024
try? FileManager.default.removeItem(atPath: work)
try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)

let keyring = KeyringDirectory(path: "\(work)/keys")
_ = try keyring.createVersion(of: "bench")
let store = try DirectoryStore.openOrCreate(path: "\(work)/store")
let image = "\(work)/disk.img"
try writeRandomImage(image, mib: mib)
// Flush the image now, or create's own sync would be charged with writing it.
sync()
let bytes = Double(mib) * 1_048_576

var id: PointID?
let createTime = try seconds {
    id = try PointWriter.create(PointRequest(images: [image], kek: KEKReference(parsing: "bench")), store: store, provider: keyring).0
}
guard let id else { exit(1) }
// Drop the image from the page cache's competition: the reads below come from the store.
try FileManager.default.removeItem(atPath: image)

let pieceSize = 1 << 20
let piece = UnsafeMutableRawBufferPointer.allocate(byteCount: pieceSize, alignment: 64)
var point: OpenedPoint?
let openTime = try seconds { point = try OpenedPoint.open(id, in: store, provider: keyring) }
guard let point else { exit(1) }

/// Reads the whole disk front to back in 1 MiB pieces through a fresh 256 MiB cache
/// (the disk does not fit in it); returns seconds and the peak RSS afterwards.
@MainActor func sequentialRead(_ point: OpenedPoint) throws -> (Double, Double) {
    let disk = RecoveryPointDisk.disks(of: point)[0]
    let time = try seconds {
        var offset: UInt64 = 0
        while offset < disk.size {
            let n = Int(min(UInt64(pieceSize), disk.size - offset))
            try disk.read(at: offset, into: UnsafeMutableRawBufferPointer(rebasing: piece[0 ..< n]))
            offset += UInt64(n)
        }
    }
    return (time, peakRSSMiB())
}

/// `reads` random 4 KiB reads within the first `span` bytes, through a fresh 256 MiB cache.
/// With `warm`, the span is read once first so that every measured read is a cache hit:
/// backwards, because a forward pass is a sequential reader, whose passed chunks drop-behind
/// releases (the measure then counted reloads: 0.2-0.36 M reads/s instead of the hits').
@MainActor func randomRead(_ point: OpenedPoint, span: UInt64, reads: Int, warm: Bool) throws -> Double {
    let disk = RecoveryPointDisk.disks(of: point)[0]
    if warm {
        for offset in stride(from: span - 4096, through: 0, by: -(1 << 16)) {
            try disk.read(at: offset, into: UnsafeMutableRawBufferPointer(rebasing: piece[0 ..< 4096]))
        }
    }
    var state: UInt64 = 42
    return try seconds {
        for _ in 0 ..< reads {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let offset = (state >> 11) % (span / 4096) * 4096
            try disk.read(at: offset, into: UnsafeMutableRawBufferPointer(rebasing: piece[0 ..< 4096]))
        }
    }
}

let (sequentialTime, rssAfterSequential) = try sequentialRead(point)
let diskSize = point.header.disks[0].size
let coldReads = 5_000
let coldTime = try randomRead(point, span: diskSize, reads: coldReads, warm: false)
let warmReads = 200_000
let warmTime = try randomRead(point, span: min(diskSize, 128 << 20), reads: warmReads, warm: true)

// A point of a 4 TiB sparse disk: how long does opening it take?
let sparse = "\(work)/sparse.img"
if FileManager.default.createFile(atPath: sparse, contents: nil), let handle = FileHandle(forWritingAtPath: sparse) {
    try handle.truncate(atOffset: 4 << 40)
    try handle.seek(toOffset: 1 << 40)
    handle.write(Data("data".utf8))
    try handle.close()
}
var sparseID: PointID?
let sparseCreateTime = try seconds {
    sparseID = try PointWriter.create(PointRequest(images: [sparse], kek: KEKReference(parsing: "bench")), store: store, provider: keyring).0
}
guard let sparseID else { exit(1) }
let sparseOpenTime = try seconds { _ = try OpenedPoint.open(sparseID, in: store, provider: keyring) }

func rate(_ seconds: Double) -> String { String(format: "%.0f MB/s", bytes / seconds / 1e6) }
print("image_mib=\(mib)")
print("create=\(rate(createTime)) (\(String(format: "%.2f", createTime)) s)")
print("open=\(String(format: "%.1f", openTime * 1000)) ms")
print("sequential_read=\(rate(sequentialTime)) (1 MiB reads, 256 MiB cache)")
print(String(format: "random_4k_read_over_disk=%.0f reads/s (each miss decrypts a whole chunk)", Double(coldReads) / coldTime))
print(String(format: "random_4k_read_cached=%.0f reads/s (working set inside the cache)", Double(warmReads) / warmTime))
print(String(format: "peak_rss_after_sequential=%.0f MiB (cache bound 256 MiB)", rssAfterSequential))
print(String(format: "peak_rss_end=%.0f MiB", peakRSSMiB()))
print(String(format: "sparse_4tib_create=%.2f s open=%.1f ms", sparseCreateTime, sparseOpenTime * 1000))
try? FileManager.default.removeItem(atPath: work)
