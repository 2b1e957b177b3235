import BlockDevices
import ByteParsing

/// Why a physical volume, a volume group or a logical volume cannot be read.
public enum LVMError: Error, Sendable, CustomStringConvertible {
    /// The PV label or a metadata area header is malformed or fails its checksum.
    case label(ByteParsingError)
    /// The text metadata is malformed (`line` counts from 1) or says something impossible.
    case metadata(String, line: Int?)
    /// Reading the physical volume failed.
    case device(DiskReadError)
    /// No metadata area of the physical volume held a copy that could be used.
    case noUsableMetadata([String])
    /// The logical volume has extents on a PV that is not in the point.
    case missingPhysicalVolume(logicalVolume: String, uuid: String)
    /// The logical volume is of a type rpfs does not read.
    case unsupported(logicalVolume: String, type: String)

    public var description: String {
        switch self {
        case let .label(error): "LVM2 label: \(error)"
        case let .metadata(reason, line?): "LVM2 metadata, line \(line): \(reason)"
        case let .metadata(reason, nil): "LVM2 metadata: \(reason)"
        case let .device(error): "\(error)"
        case let .noUsableMetadata(reasons): "no usable metadata copy (\(reasons.joined(separator: "; ")))"
        case let .missingPhysicalVolume(volume, uuid):
            "logical volume \(volume) has extents on physical volume \(uuid), which is not in this point"
        case let .unsupported(volume, type): "not supported: LV \(volume) is \(type)"
        }
    }
}

/// An LVM failure met while reading a logical volume's device, carried up through
/// `DiskReadError.source`: not damage to the stored bytes, but bytes the point cannot give.
public struct LogicalVolumeFault: DeviceFault {
    public let error: LVMError
    public var isDamage: Bool { false }
    public var description: String { error.description }
}
