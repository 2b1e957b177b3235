import Dispatch
import FoundationEssentials
import Synchronization

/// Runs `body` for every index in `0..<count` on `workers` threads, each pulling the next
/// index when it is done (no idle core waiting for a slow neighbour). Stops handing out
/// work at the first error and rethrows it.
public enum ParallelWork {
    public static func forEach<E: Error>(count: Int, workers: Int, _ body: @Sendable (Int) throws(E) -> Void) throws(E) {
        try forEach(count: count, workers: workers) { (index, _) throws(E) in try body(index) }
    }

    /// As `forEach`, telling `body` which worker (0..<workers) runs it, for per-worker state.
    public static func forEach<E: Error>(count: Int, workers: Int, _ body: @Sendable (_ index: Int, _ worker: Int) throws(E) -> Void) throws(E) {
        let next = Atomic<Int>(0)
        let failure = Mutex<E?>(nil)
        DispatchQueue.concurrentPerform(iterations: max(1, min(workers, count))) { worker in
            while failure.withLock({ $0 == nil }) {
                let index = next.add(1, ordering: .relaxed).oldValue
                guard index < count else { return }
                do throws(E) {
                    try body(index, worker)
                } catch {
                    failure.withLock { if $0 == nil { $0 = error } }
                }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
    }

    public static var defaultWorkers: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
}
