#if canImport(Glibc)
import Glibc
#endif
import PointNamespace
import Synchronization
import VolumeModel

/// Opening, reading and seeking in files, and the page-cache windows small reads fill.
extension PointFilesystem {
    /// A fill waits on kernel page locks held by reads that need a loop thread to be
    /// answered: fills may take only a few of the loop's threads (the rest answer reads),
    /// and a read that finds them all busy is not followed by a fill.
    static let maxConcurrentFills = 4

    func open(_ number: UInt64, flags: Int32) -> FuseReply {
        answer(number) { (node, path) throws(NamespaceError) in
            guard flags & O_ACCMODE == O_RDONLY else { return .error(EROFS) }
            // Refused files (EFS, fscrypt) fail here rather than on the first read.
            _ = try namespace.withVolume(node, path: path) { volume, inner throws(VolumeError) in try volume.dataRanges(of: inner) }
            // Contents never change: keep the kernel's page cache across opens.
            return .open(handle: nil, keepCache: true)
        }
    }

    /// Reads into a reply buffer; the caller sends the reply, then calls `finish`.
    func read(_ number: UInt64, size: Int, offset: off_t) -> FuseReply {
        answer(number) { (node, path) throws(NamespaceError) in
            let buffer = replyBuffers.take(size)
            let position = UInt64(max(offset, 0))
            let got: Int
            do throws(NamespaceError) {
                got = try namespace.withVolume(node, path: path) { volume, inner throws(VolumeError) in
                    try volume.read(inner, at: position, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0 ..< size]))
                }
            } catch {
                replyBuffers.giveBack(buffer)
                throw error
            }
            let window = PageCacheWindow.after(offset: position, asked: size, served: got, windowSize: windowSize)
            return .data(ReadReply(buffer: buffer, count: got, window: window.map { WindowFill(number: number, node: node, path: path, range: $0) }))
        }
    }

    /// After a read's reply is sent: fills its window through `store` (offset, bytes; false
    /// when the kernel refused them), then returns its buffer to the pool. Done after the
    /// reply, so the read's latency is unchanged and the page lock its reply releases is not
    /// waited on by its own thread. Page-cache pages are the kernel's to reclaim; they do not
    /// count against --cache-size.
    func finish(_ read: ReadReply, store: (UInt64, UnsafeMutableRawBufferPointer) -> Bool) {
        defer { replyBuffers.giveBack(read.buffer) }
        guard let window = read.window else { return }
        let key = [window.number, window.range.lowerBound]
        guard filling.withLock({ $0.count < Self.maxConcurrentFills && $0.insert(key).inserted }) else { return }
        defer { _ = filling.withLock { $0.remove(key) } }
        // In reply-buffer pieces, through the read's own buffer: a window-sized buffer per
        // fill, freed each time, fragments the heap.
        var position = window.range.lowerBound
        while position < window.range.upperBound {
            let piece = UnsafeMutableRawBufferPointer(rebasing: read.buffer[0 ..< Int(min(UInt64(read.buffer.count), window.range.upperBound - position))])
            // A piece that cannot be read is simply not stored: the reads that want its bytes
            // come to the daemon and meet (and log) the error themselves.
            guard let got = try? namespace.withVolume(window.node, path: window.path, { volume, inner throws(VolumeError) in
                try volume.read(inner, at: position, into: piece)
            }), got > 0 else { return }
            // Only bytes below the file's end: a store past it would extend the file's size.
            // Failure (the kernel forgot the inode meanwhile) only means no window.
            guard store(position, UnsafeMutableRawBufferPointer(rebasing: piece[0 ..< got])), got == piece.count else { return }
            position += UInt64(got)
        }
    }

    /// SEEK_DATA and SEEK_HOLE from the file's data ranges, so sparse-aware tools see holes.
    func lseek(_ number: UInt64, offset: off_t, whence: Int32) -> FuseReply {
        answer(number) { (node, path) throws(NamespaceError) in
            let size = try namespace.attributes(node, path: path).size
            let ranges = try namespace.withVolume(node, path: path) { volume, inner throws(VolumeError) in try volume.dataRanges(of: inner) }
            let position = UInt64(max(offset, 0))
            guard position < size else { return .error(ENXIO) }
            switch whence {
            case 3: // SEEK_DATA (Glibc's module leaves out the GNU constants)
                guard let range = ranges.first(where: { $0.upperBound > position }) else { return .error(ENXIO) }
                return .offset(off_t(max(range.lowerBound, position)))
            case 4: // SEEK_HOLE
                // The end of the data range holding the position, or the position itself.
                let hole = ranges.first(where: { $0.contains(position) }).map { min($0.upperBound, size) } ?? position
                return .offset(off_t(hole))
            default:
                return .error(EINVAL)
            }
        }
    }
}
