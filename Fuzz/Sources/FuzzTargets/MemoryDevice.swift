import BlockDevices

/// A disk or volume held in memory: the fuzzer's input, as a `BlockDevice`, followed by
/// zeros up to `size`, so that a sparse image can be fuzzed without its trailing zeros.
final class MemoryDevice: BlockDevice {
    let bytes: [UInt8]
    let size: UInt64

    init(_ bytes: [UInt8], size: Int = 0) {
        self.bytes = bytes
        self.size = UInt64(max(bytes.count, size))
    }

    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DiskReadError) {
        try checkRange(offset, buffer.count)
        let start = min(Int(offset), bytes.count)
        let stored = min(buffer.count, bytes.count - start)
        bytes.withUnsafeBytes { source in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[start ..< start + stored]))
        }
        UnsafeMutableRawBufferPointer(rebasing: buffer[stored...]).initializeMemory(as: UInt8.self, repeating: 0)
    }
}
