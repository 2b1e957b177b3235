/// Where a regular file's bytes lie on its volume: what a catalog fingerprints a file's
/// content by, and what tells which files a damaged range of the disk holds.
public struct FilePlacement: Sendable, Equatable {
    /// A piece of the file stored on the volume: `length` bytes from file offset `fileOffset`
    /// are the `length` bytes at `volumeOffset`.
    public struct Run: Sendable, Equatable {
        public let fileOffset: UInt64
        public let length: UInt64
        public let volumeOffset: UInt64

        public init(fileOffset: UInt64, length: UInt64, volumeOffset: UInt64) {
            self.fileOffset = fileOffset
            self.length = length
            self.volumeOffset = volumeOffset
        }
    }

    /// How the bytes of `runs` become the file's bytes.
    public enum Encoding: Sendable, Equatable {
        /// As they are; file bytes no run covers read as zeros.
        case plain
        /// NTFS LZNT1 compression units of `unitBytes` bytes: `runs` hold the units as stored
        /// (compressed or not), and bytes from `initializedSize` on read as zeros. Equal
        /// stored bytes decode to equal contents; different ones may still decode alike.
        case lznt1(unitBytes: UInt64, initializedSize: UInt64)
    }

    public let size: UInt64
    /// In file order, disjoint.
    public let runs: [Run]
    public let encoding: Encoding
    /// Bytes kept in the file's metadata rather than in runs (ext4 inline data, NTFS resident
    /// data): the file's first bytes; past them (and past the runs) the file reads as zeros.
    public let inline: [UInt8]

    public init(size: UInt64, runs: [Run], encoding: Encoding = .plain, inline: [UInt8] = []) {
        self.size = size
        self.runs = runs
        self.encoding = encoding
        self.inline = inline
    }

    /// The runs of a `RunMap` that store bytes, below `limit` (the file's size, or the
    /// initialized size), in bytes.
    public static func runs(of map: RunMap, below limit: UInt64) -> [Run] {
        var runs: [Run] = []
        for run in map.runs {
            guard let physical = run.physical else { continue }
            // RunMap's init checked these products and sums fit in 64 bits.
            let start = run.logical * map.unitSize
            guard start < limit else { break }
            let length = min(run.count * map.unitSize, limit - start)
            runs.append(Run(fileOffset: start, length: length, volumeOffset: physical * map.unitSize))
        }
        return runs
    }
}
