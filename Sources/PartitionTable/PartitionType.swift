import ByteParsing

/// What a table says a partition holds: the MBR type byte or the GPT type GUID. Only a
/// hint: `VolumeProbe` looks at the partition's own bytes.
public enum PartitionType: Sendable, Hashable, CustomStringConvertible {
    case mbr(UInt8)
    /// Lower-case GUID text.
    case gpt(String)

    /// The common types' names; nil for the rest.
    public var readableName: String? {
        switch self {
        case let .mbr(byte): Self.mbrNames[byte]
        case let .gpt(guid): Self.gptNames[guid]
        }
    }

    /// The readable name, or the raw type when it has none.
    public var description: String {
        switch self {
        case let .mbr(byte): readableName ?? "type 0x\(Hex.encode([byte]))"
        case let .gpt(guid): readableName ?? "type \(guid)"
        }
    }

    /// An MBR extended partition: a container for the EBR chain, not a volume.
    public var isExtendedContainer: Bool {
        if case let .mbr(byte) = self { return Self.extendedTypes.contains(byte) }
        return false
    }

    /// Space of a Windows dynamic disk whose volumes the LDM database describes: an MBR
    /// partition of type 0x42 or GPT's LDM data and LDM metadata partitions. Its own bytes
    /// are pieces of those volumes, never a volume to open.
    public var isDynamicDisk: Bool {
        switch self {
        case let .mbr(byte): byte == Self.dynamicDiskType
        case let .gpt(guid): guid == Self.ldmDataGUID || guid == Self.ldmMetadataGUID
        }
    }

    public static let dynamicDiskType: UInt8 = 0x42
    public static let ldmMetadataGUID = "5808c8aa-7e8f-42e0-85d2-e1e90434cfb3"
    public static let ldmDataGUID = "af9b60a0-1431-4f62-bc68-3311714a69ad"

    static let extendedTypes: Set<UInt8> = [0x05, 0x0F, 0x85]
    static let protectiveMBR: UInt8 = 0xEE

    private static let mbrNames: [UInt8: String] = [
        0x01: "FAT12", 0x04: "FAT16 <32M", 0x05: "Extended", 0x06: "FAT16",
        0x07: "HPFS/NTFS/exFAT", 0x0B: "W95 FAT32", 0x0C: "W95 FAT32 (LBA)",
        0x0E: "W95 FAT16 (LBA)", 0x0F: "W95 Extended (LBA)", 0x27: "Windows recovery", 0x42: "Windows dynamic disk (LDM)",
        0x82: "Linux swap", 0x83: "Linux", 0x85: "Linux extended", 0x8E: "Linux LVM",
        0xEE: "GPT protective", 0xEF: "EFI system", 0xFD: "Linux RAID",
    ]

    private static let gptNames: [String: String] = [
        "0fc63daf-8483-4772-8e79-3d69d8477de4": "Linux filesystem",
        "e6d6d379-f507-44c2-a23c-238f2a3df928": "Linux LVM",
        "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f": "Linux swap",
        "a19d880f-05fc-4d3b-a006-743f0f84911e": "Linux RAID",
        "ca7d7ccb-63ed-4c53-861c-1742536059cc": "Linux LUKS",
        "4f68bce3-e8cd-4db1-96e7-fbcaf984b709": "Linux root (x86-64)",
        "c12a7328-f81f-11d2-ba4b-00a0c93ec93b": "EFI system",
        "21686148-6449-6e6f-744e-656564454649": "BIOS boot",
        "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7": "Microsoft basic data",
        "e3c9e316-0b5c-4db8-817d-f92df00215ae": "Microsoft reserved",
        "de94bba4-06d1-4d40-a16a-bfd50179d6ac": "Windows recovery",
        ldmMetadataGUID: "Windows LDM metadata",
        ldmDataGUID: "Windows LDM data",
        storageSpacesGUID: "Storage Spaces",
    ]

    /// A disk's share of a Windows Storage Spaces pool.
    static let storageSpacesGUID = "e75caf8f-f680-4cee-afa3-b001e56efc2d"

    public var isStorageSpaces: Bool { self == .gpt(Self.storageSpacesGUID) }
}
