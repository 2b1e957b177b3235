/// The archive's bytes on their way to the sink, gathered into one buffer so that headers and
/// file data leave in large writes, and counted (zip records the offset of every member).
final class ArchiveOutput {
    static let bufferSize = 1 << 20

    private let sink: any ArchiveSink
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 4096)
    private var used = 0
    /// Bytes of archive made so far, flushed or not.
    private(set) var position: UInt64 = 0

    init(sink: any ArchiveSink) {
        self.sink = sink
    }

    deinit { buffer.deallocate() }

    func append(_ bytes: [UInt8]) throws(ArchiveError) {
        var done = 0
        while done < bytes.count {
            let piece = try space(UInt64(bytes.count - done))
            bytes.withUnsafeBytes { source in
                piece.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[done ..< done + piece.count]))
            }
            commit(piece.count)
            done += piece.count
        }
    }

    /// Appends `count` bytes that `fill` writes, piece by piece: each call gets the piece to
    /// fill whole and how many of the `count` bytes came before it.
    func produce(_ count: UInt64, _ fill: (UnsafeMutableRawBufferPointer, UInt64) throws(ArchiveError) -> Void) throws(ArchiveError) {
        var done: UInt64 = 0
        while done < count {
            let piece = try space(count - done)
            try fill(piece, done)
            commit(piece.count)
            done += UInt64(piece.count)
        }
    }

    /// `count` zero bytes: past the buffer, the sink's own way of writing them (a file
    /// leaves a hole), so a hole of gigabytes is never filled in memory.
    func zeros(_ count: UInt64) throws(ArchiveError) {
        guard count > UInt64(buffer.count - used) else {
            try produce(count) { piece, _ in piece.initializeMemory(as: UInt8.self, repeating: 0) }
            return
        }
        try flush()
        try sink.writeZeros(count)
        position += count
    }

    /// Zeros up to the next multiple of `block` (tar's 512-byte records).
    func pad(to block: UInt64) throws(ArchiveError) {
        let rest = position % block
        guard rest != 0 else { return }
        try zeros(block - rest)
    }

    func flush() throws(ArchiveError) {
        guard used > 0 else { return }
        try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0 ..< used]))
        used = 0
    }

    /// Free space for at most `wanted` bytes, flushing first when the buffer is full.
    private func space(_ wanted: UInt64) throws(ArchiveError) -> UnsafeMutableRawBufferPointer {
        if used == buffer.count { try flush() }
        let count = Int(min(wanted, UInt64(buffer.count - used)))
        return UnsafeMutableRawBufferPointer(rebasing: buffer[used ..< used + count])
    }

    private func commit(_ count: Int) {
        used += count
        position += UInt64(count)
    }
}
