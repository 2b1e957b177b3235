import BlockDevices

/// A read a volume reader makes: which volume, where on it, how many bytes, and for what.
public struct VolumeRead: Sendable, CustomStringConvertible {
    public let volume: String
    public let offset: UInt64
    public let count: Int
    /// What the bytes are for: "inode 12", "boot sector", "MFT record 0".
    public let purpose: String

    public init(volume: String, offset: UInt64, count: Int, purpose: String) {
        self.volume = volume
        self.offset = offset
        self.count = count
        self.purpose = purpose
    }

    public var description: String { "\(volume): \(purpose): reading \(count) bytes at volume byte \(offset)" }

    /// What a failure of this read means: past the end of the device, the structure that led
    /// here points outside the volume (corruption); anything else is the device's failure.
    public func failure(_ error: DiskReadError) -> VolumeError {
        switch error {
        case .outOfRange:
            .corrupt(volume: volume, structure: purpose, at: offset, problem: "\(count) bytes lie outside the volume (\(error))")
        case .source, .io:
            .device(error, self)
        }
    }

    /// Fills `buffer` from `device` at volume byte `offset`, failing as `failure` says.
    public static func read(_ device: any BlockDevice, at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer,
                            volume: String, purpose: String) throws(VolumeError) {
        do {
            try device.read(at: offset, into: buffer)
        } catch {
            throw VolumeRead(volume: volume, offset: offset, count: buffer.count, purpose: purpose).failure(error)
        }
    }

    /// `count` bytes from `device` at volume byte `offset`, in a new array.
    public static func read(_ device: any BlockDevice, at offset: UInt64, count: Int, volume: String, purpose: String) throws(VolumeError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(VolumeError) in try read(device, at: offset, into: buffer, volume: volume, purpose: purpose) }
        }.get()
        return bytes
    }
}
