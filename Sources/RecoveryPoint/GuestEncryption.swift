/// Whether the source VM encrypted its own disks (Azure Disk Encryption), as the creator
/// of the point recorded it. Such disks hold only ciphertext: no file-level restore.
public enum GuestEncryption: UInt8, Sendable, CaseIterable, Codable {
    case none = 0
    case adeBitLocker = 1
    case adeDmCrypt = 2

    /// The spelling used on the command line and in JSON.
    public var name: String {
        switch self {
        case .none: "none"
        case .adeBitLocker: "ade-bitlocker"
        case .adeDmCrypt: "ade-dmcrypt"
        }
    }

    public init?(name: String) {
        guard let match = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }
}
