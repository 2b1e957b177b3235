/// Splits a read of `buffer.count` bytes at `offset` into pieces that each stay inside one
/// `blockSize` block, in order: `body(block index, offset within the block, the piece)`. For
/// devices that find each block somewhere else (stripes, thin and snapshot chunks).
@inlinable
public func forEachBlockPiece(at offset: UInt64, of buffer: UnsafeMutableRawBufferPointer, blockSize: UInt64,
                              _ body: (UInt64, UInt64, UnsafeMutableRawBufferPointer) throws(DiskReadError) -> Void) throws(DiskReadError) {
    var position = offset
    var done = 0
    while done < buffer.count {
        let within = position % blockSize
        let n = Int(min(UInt64(buffer.count - done), blockSize - within))
        try body(position / blockSize, within, UnsafeMutableRawBufferPointer(rebasing: buffer[done ..< done + n]))
        done += n
        position += UInt64(n)
    }
}
