/// Little-endian serialisation, the mirror of `ByteReader`.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    public mutating func append<T: FixedWidthInteger & UnsignedInteger>(_ value: T) {
        for index in 0 ..< MemoryLayout<T>.size {
            bytes.append(UInt8(truncatingIfNeeded: value >> (8 * index)))
        }
    }

    public mutating func append(_ value: Int64) {
        append(UInt64(bitPattern: value))
    }

    public mutating func append(bytes more: some Sequence<UInt8>) {
        bytes.append(contentsOf: more)
    }
}
