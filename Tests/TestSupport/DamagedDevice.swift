import BlockDevices

/// A real image read through `FileBlockDevice`, with chosen byte ranges failing as a damaged
/// chunk fails: for a reader's fallbacks to structures smaller than any chunk.
public struct DamagedDevice: BlockDevice {
    /// What a read of a damaged range meets.
    public struct Damage: DeviceFault {
        public let range: Range<UInt64>
        public var isDamage: Bool { true }
        public var description: String { "integrity error: bytes \(range.lowerBound)..<\(range.upperBound) are damaged" }
    }

    private let image: FileBlockDevice
    private let damaged: [Range<UInt64>]

    public init(path: String, damaged: [Range<UInt64>]) throws {
        image = try FileBlockDevice(path: path)
        self.damaged = damaged
    }

    public var size: UInt64 { image.size }

    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DiskReadError) {
        let wanted = offset ..< offset + UInt64(buffer.count)
        if let hit = damaged.first(where: { $0.overlaps(wanted) }) { throw .source(Damage(range: hit)) }
        try image.read(at: offset, into: buffer)
    }
}
