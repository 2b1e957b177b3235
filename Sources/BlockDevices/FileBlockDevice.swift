#if canImport(Glibc)
import Glibc
#endif
import POSIXFiles

/// A plaintext image file or block device, read-only. Used for tests and tools that
/// compare rpfs with the image a point was made from.
public final class FileBlockDevice: BlockDevice {
    private let file: FileDescriptor
    public let size: UInt64

    public init(path: String) throws(DiskReadError) {
        do {
            file = try FileDescriptor(opening: path, flags: O_RDONLY)
            size = try file.size()
        } catch {
            throw .io(error)
        }
    }

    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DiskReadError) {
        try checkRange(offset, buffer.count)
        let n: Int
        do {
            n = try file.read(at: offset, into: buffer)
        } catch {
            throw .io(error)
        }
        // The file shrank after it was opened.
        guard n == buffer.count else { throw .outOfRange(offset: offset, count: buffer.count, size: size) }
    }
}
