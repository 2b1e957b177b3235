import BlockDevices
import ByteParsing

/// Why a dynamic disk's LDM database, a disk group or a dynamic volume cannot be read.
public enum LDMError: Error, Sendable, CustomStringConvertible {
    /// A PRIVHEAD, TOCBLOCK, VMDB or VBLK is malformed.
    case structure(ByteParsingError)
    /// The database says something impossible (a record refers to one that is not there,
    /// sizes that do not add up).
    case database(String)
    /// Reading the disk failed.
    case device(DiskReadError)
    /// The volume has a partition on a disk of its group that the point does not hold.
    case missingDisk(volume: String, disk: String, guid: String)
    /// The volume's layout is one rpfs does not read.
    case unsupported(volume: String, reason: String)

    public var description: String {
        switch self {
        case let .structure(error): "LDM database: \(error)"
        case let .database(reason): "LDM database: \(reason)"
        case let .device(error): "\(error)"
        case let .missingDisk(volume, disk, guid):
            "dynamic volume \(volume) has a partition on disk \(disk) (\(guid)), which is not in this point"
        case let .unsupported(volume, reason): "not supported: dynamic volume \(volume) \(reason)"
        }
    }
}

/// An LDM failure met while reading a dynamic volume's device, carried up through
/// `DiskReadError.source`: not damage to the stored bytes, but bytes the point cannot give.
public struct DynamicVolumeFault: DeviceFault {
    public let error: LDMError
    public var isDamage: Bool { false }
    public var description: String { error.description }
}

/// Runs a parse step, turning its `ByteParsingError` into the module's error.
func parsing<T>(_ body: () throws(ByteParsingError) -> T) throws(LDMError) -> T {
    do {
        return try body()
    } catch {
        throw .structure(error)
    }
}

/// Reads `count` bytes at `offset` of `device`, as a reader whose positions are the device's.
func readBytes(_ device: any BlockDevice, at offset: UInt64, count: Int) throws(LDMError) -> ByteReader {
    guard offset <= device.size, UInt64(count) <= device.size - offset else {
        throw .device(.outOfRange(offset: offset, count: count, size: device.size))
    }
    do {
        return ByteReader(try device.read(at: offset, count: count), origin: offset)
    } catch {
        throw .device(error)
    }
}
