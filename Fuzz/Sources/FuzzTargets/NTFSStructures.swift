@testable import NTFSVolume
import VolumeModel

/// NTFS structures on their own, for inputs that reach deeper than through a whole volume.
enum NTFSStructures {
    /// A self-relative security descriptor: checked, and rendered as SDDL when it passes.
    static func descriptor(_ input: [UInt8]) {
        guard let descriptor = try? SecurityDescriptor.parse(input) else { return }
        _ = SDDL.render(descriptor)
    }

    /// A $REPARSE_POINT value.
    static func reparse(_ input: [UInt8]) {
        _ = try? ReparsePoint.parse(input, origin: 0)
    }

    /// A WofCompressedData stream: the first byte picks the algorithm, the next three the
    /// file's size (under 16 MiB, so the walk stays short), the rest is the stream. Every
    /// chunk's bounds are taken as a read of it would, and the chunks within them expanded.
    static func wofStream(_ input: [UInt8]) {
        guard input.count >= 4, let algorithm = WofFile.Algorithm(rawValue: UInt32(input[0] % 4)) else { return }
        let size = UInt64(input[1]) | UInt64(input[2]) << 8 | UInt64(input[3]) << 16
        let bytes = Array(input[4...])
        let stream = DataStream(storage: .resident(bytes), dataSize: UInt64(bytes.count), initializedSize: UInt64(bytes.count),
                                allocatedBytes: 0, compressionUnit: 0, isEncrypted: false, isSparse: false)
        let wof = WofFile(algorithm: algorithm, size: size, stream: stream)
        guard wof.tableSize <= stream.dataSize, wof.chunkCount > 0 else { return }
        let decompressor = Wimlib.shared.flatMap { Wimlib.Decompressor($0, algorithm.format, blockSize: Int(algorithm.chunkSize)) }
        for chunk in 0 ..< wof.chunkCount {
            let table = wof.tableEntries(first: chunk, last: chunk)
            let entries = table.map { Array(bytes[Int($0.lowerBound) ..< Int($0.upperBound)]) } ?? []
            guard let bounds = try? wof.bounds(first: chunk, last: chunk, entries: entries, origin: 0), bounds.count == 2 else { continue }
            let start = Int(wof.tableSize + bounds[0])
            let piece = Array(bytes[start ..< start + Int(bounds[1] - bounds[0])])
            if !piece.isEmpty, UInt64(piece.count) < wof.plainSize(chunk) {
                _ = decompressor?.decompress(piece, size: Int(wof.plainSize(chunk)))
            }
        }
    }
}
