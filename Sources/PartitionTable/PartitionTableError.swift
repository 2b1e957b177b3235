import BlockDevices

/// Why a disk's partition table could not be read. Damage that still leaves a usable table
/// (a loop in the EBR chain, a partition past the end) is not an error: it is reported in
/// `PartitionedDisk.anomalies`.
public enum PartitionTableError: Error, Sendable, CustomStringConvertible {
    /// A sector the table needs could not be read.
    case unreadable(what: String, offset: UInt64, DiskReadError)
    /// Sector 0 or LBA 1 says GPT, but neither the primary nor the backup header is usable.
    case noValidGPT(primary: String, backup: String)
    /// A byte range that should be inside the disk is not.
    case outsideDisk(offset: UInt64, size: UInt64, diskSize: UInt64)

    public var description: String {
        switch self {
        case let .unreadable(what, offset, error):
            "cannot read the \(what) at byte \(offset): \(error)"
        case let .noValidGPT(primary, backup):
            "no usable GPT: primary: \(primary); backup: \(backup)"
        case let .outsideDisk(offset, size, diskSize):
            "\(size) bytes at \(offset) do not lie inside the disk (\(diskSize) bytes)"
        }
    }
}
