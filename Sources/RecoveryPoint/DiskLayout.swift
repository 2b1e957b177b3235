/// One disk of a point: its name, size and how it is cut into chunks.
public struct DiskLayout: Sendable, Equatable {
    public static let minChunkSizeLog2: UInt8 = 16 // 64 KiB
    public static let maxChunkSizeLog2: UInt8 = 24 // 16 MiB
    public static let defaultChunkSizeLog2: UInt8 = 22 // 4 MiB
    /// 1 PiB: far beyond any VM disk, small enough that every offset fits in Int64.
    public static let maxSize: UInt64 = 1 << 50

    public let name: String
    public let size: UInt64
    public let chunkSizeLog2: UInt8

    public init(name: String, size: UInt64, chunkSizeLog2: UInt8) {
        self.name = name
        self.size = size
        self.chunkSizeLog2 = chunkSizeLog2
    }

    public var chunkSize: Int { 1 << Int(chunkSizeLog2) }

    public var chunkCount: UInt64 { (size + UInt64(chunkSize) - 1) >> UInt64(chunkSizeLog2) }

    /// Byte range of chunk `index` on the disk; the last chunk may be short.
    public func range(ofChunk index: UInt64) -> Range<UInt64> {
        let start = index << UInt64(chunkSizeLog2)
        return start ..< min(start + UInt64(chunkSize), size)
    }
}
