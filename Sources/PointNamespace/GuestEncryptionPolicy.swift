import PartitionTable
import RecoveryPoint

/// Why a point or its volumes cannot be restored file by file, and what to do instead.
public struct Refusal: Error, Sendable, CustomStringConvertible {
    public enum Cause: Sendable {
        /// The point's metadata says the source VM used Azure Disk Encryption.
        case guestEncryptedPoint(GuestEncryption)
        /// Volumes found to be BitLocker or LUKS: (path, kind).
        case encryptedVolumes([(path: String, kind: VolumeKind)])
    }

    public let point: PointID
    public let cause: Cause

    public var description: String {
        switch cause {
        case let .guestEncryptedPoint(scheme):
            let (what, ciphertext, unlock) = scheme == .adeDmCrypt
                ? ("dm-crypt", "LUKS", "their LUKS passphrase or key file")
                : ("BitLocker", "BitLocker", "their BitLocker recovery key")
            return "point \(point) is refused: it was taken from a VM with Azure Disk Encryption (\(what) inside the guest), "
                + "so this backup holds only \(ciphertext) ciphertext for its volumes and single files cannot be restored from it. "
                + "Restore the whole disk or VM instead, then unlock the volumes with \(unlock)."
        case let .encryptedVolumes(volumes):
            let list = volumes.map { "\($0.path): \($0.kind.displayName)" }.joined(separator: ", ")
            let kinds = Set(volumes.map(\.kind))
            var unlock: [String] = []
            if kinds.contains(.bitlocker) || kinds.contains(.bitlockerToGo) { unlock.append("BitLocker volumes with their recovery key") }
            if kinds.contains(.luks1) || kinds.contains(.luks2) { unlock.append("LUKS volumes with their passphrase or key file") }
            return "point \(point) is refused: it holds volumes encrypted inside the guest (\(list)). "
                + "The backup holds only their ciphertext, so their files cannot be restored one by one: "
                + "restore the whole disk and unlock the \(unlock.joined(separator: " and ")). "
                + "To read the point's other volumes, add --skip-encrypted-volumes."
        }
    }
}

/// The one place that decides what a file-reading command (ls, cp, restore, mount) may open.
public enum GuestEncryptionPolicy {
    /// Refuses a point flagged as guest-encrypted. Needs only the public header, so it runs
    /// before any key is unwrapped or chunk read.
    public static func check(_ header: PointHeader) throws(Refusal) {
        guard header.guestEncryption == .none else {
            throw Refusal(point: header.id, cause: .guestEncryptedPoint(header.guestEncryption))
        }
    }

    /// The guest-encrypted volumes of `inventory`, to leave out when `skip` is set.
    /// Without `skip`, any such volume refuses the whole point.
    public static func encryptedVolumes(in inventory: PointInventory, skip: Bool) throws(Refusal) -> [PointInventory.Volume] {
        let encrypted = inventory.volumes.filter(\.isGuestEncrypted)
        guard skip || encrypted.isEmpty else {
            throw Refusal(point: inventory.header.id, cause: .encryptedVolumes(encrypted.map { ($0.path, $0.info.kind) }))
        }
        return encrypted
    }
}
