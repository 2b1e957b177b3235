/// Moves a value out of a `Mutex.withLock` closure; safe because the lock only serialises
/// calls into a C library, and the value is used by the calling thread alone afterwards.
struct UnsafeTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
