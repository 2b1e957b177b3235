import Dispatch

/// Where the blocking work of requests runs (volume reads, decryption): off the few threads
/// of Swift concurrency, at most `width` at a time, so a slow store or a large listing holds
/// one slot and never the threads that accept and answer other requests.
final class BlockingPool: Sendable {
    private let queue = DispatchQueue(label: "rpfs.serve.blocking", attributes: .concurrent)
    private let slots: DispatchSemaphore

    init(width: Int) {
        slots = DispatchSemaphore(value: width)
    }

    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { [slots] in
                slots.wait()
                defer { slots.signal() }
                continuation.resume(with: Result { try body() })
            }
        }
    }
}
