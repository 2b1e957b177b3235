/// Where an archive goes, as it is made: a file, standard output, an HTTP response. Called
/// from one thread at a time.
public protocol ArchiveSink: AnyObject {
    /// The next bytes, at most `ArchiveOutput.bufferSize` at a time.
    func write(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError)
    /// The next `count` bytes, all zero (a hole of a file in a zip). A file may leave a hole.
    func writeZeros(_ count: UInt64) throws(ArchiveError)
}

extension ArchiveSink {
    public func writeZeros(_ count: UInt64) throws(ArchiveError) {
        try writeZeroBytes(count)
    }

    /// Writes `count` zero bytes through `write`: what a sink that cannot leave holes does.
    public func writeZeroBytes(_ count: UInt64) throws(ArchiveError) {
        let zeros = UnsafeMutableRawBufferPointer.allocate(byteCount: ArchiveOutput.bufferSize, alignment: 16)
        defer { zeros.deallocate() }
        zeros.initializeMemory(as: UInt8.self, repeating: 0)
        var done: UInt64 = 0
        while done < count {
            let piece = Int(min(count - done, UInt64(zeros.count)))
            try write(UnsafeRawBufferPointer(rebasing: zeros[0 ..< piece]))
            done += UInt64(piece)
        }
    }
}
