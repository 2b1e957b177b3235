import Archives
import Dispatch
import NIOCore
import Synchronization

/// An archive made on a thread of its own (its reads block) and handed to the response as
/// it is made. At most `buffersInFlight` buffers wait for a slow client: the maker blocks
/// until the response has taken one, so memory stays bounded whatever the client's speed.
final class ArchiveStream: ArchiveSink, Sendable {
    static let buffersInFlight = 4
    let buffers: AsyncThrowingStream<ByteBuffer, any Error>
    private let continuation: AsyncThrowingStream<ByteBuffer, any Error>.Continuation
    private let room = DispatchSemaphore(value: buffersInFlight)
    private let stopped = Atomic<Bool>(false)

    init() {
        (buffers, continuation) = AsyncThrowingStream.makeStream(of: ByteBuffer.self, throwing: (any Error).self)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) {
        room.wait()
        guard !stopped.load(ordering: .acquiring) else { throw .output("the client went away") }
        var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        continuation.yield(buffer)
    }

    /// The response took a buffer.
    func taken() { room.signal() }

    /// The response ended, sent or not: the maker stops at its next write.
    func stop() {
        stopped.store(true, ordering: .releasing)
        room.signal()
    }

    /// Makes the archive on a queue of its own; the buffers end with its error, if any.
    func start(_ make: @escaping @Sendable (ArchiveStream) throws(ArchiveError) -> Void) {
        DispatchQueue(label: "rpfs.serve.archive").async { [self] in
            do {
                try make(self)
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
    }
}
