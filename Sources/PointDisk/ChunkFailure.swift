import BlockDevices
import RecoveryPoint

/// A chunk of a point that could not be read, as the disk reports it to the layers above
/// (which see it only as a `DeviceFault`; the CLI and the FUSE frontend look inside).
public struct ChunkFailure: DeviceFault {
    public let error: RecoveryPointError

    public var isDamage: Bool { error.isDamage }

    public var description: String { error.description }
}
