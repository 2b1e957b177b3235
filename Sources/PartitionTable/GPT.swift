import BlockDevices

/// GPT partitioning: the primary copy at LBA 1, the backup ending at the last LBA, for 512-
/// and 4096-byte sectors (a 4K-native disk's header is at byte 4096, where a 512-byte
/// reader finds only entry-array bytes).
enum GPT {
    static let sectorSizes: [UInt64] = [512, 4096]

    /// Sector sizes for which LBA 1 starts with "EFI PART".
    static func signedSectorSizes(_ disk: any BlockDevice) -> [UInt64] {
        sectorSizes.filter { sectorSize in
            2 * sectorSize <= disk.size && (try? disk.read(at: sectorSize, count: 8)) == GPTHeader.signature
        }
    }

    /// The table from the primary copy or, when that is damaged, from the backup, saying why.
    /// `unreadable`: why the disk's first sectors could not be read, when they could not.
    static func read(_ disk: any BlockDevice, anomalies: [String], unreadable: String? = nil) throws(PartitionTableError) -> PartitionedDisk {
        let signed = signedSectorSizes(disk)
        var primaryFailures: [String] = []
        for sectorSize in signed {
            do {
                let primary = try GPTCopy.load(disk, lba: 1, sectorSize: sectorSize)
                return table(primary, disk, source: .primary, anomalies: anomalies + backupAnomalies(primary, disk))
            } catch {
                primaryFailures.append("primary GPT header at LBA 1: \(error.reason)")
            }
        }
        let primaryFailure = primaryFailures.first ?? unreadable ?? "no GPT header at LBA 1"
        // Sector sizes with a primary signature first: the table was written for one of them.
        let candidates = signed + sectorSizes.filter { !signed.contains($0) && 2 * $0 <= disk.size }
        var backupFailures: [String] = []
        for sectorSize in candidates {
            let lastLBA = disk.size / sectorSize - 1
            do {
                let backup = try GPTCopy.load(disk, lba: lastLBA, sectorSize: sectorSize)
                let reason = "\(primaryFailure): using the backup header at LBA \(lastLBA)"
                return table(backup, disk, source: .backup(reason: reason), anomalies: anomalies + [reason])
            } catch {
                backupFailures.append("at LBA \(lastLBA) for \(sectorSize)-byte sectors: \(error.reason)")
            }
        }
        throw .noValidGPT(primary: primaryFailure, backup: backupFailures.joined(separator: "; "))
    }

    private static func table(
        _ copy: GPTCopy, _ disk: any BlockDevice, source: GPTHeaderSource, anomalies: [String]
    ) -> PartitionedDisk {
        var anomalies = anomalies
        let partitions = copy.partitions(diskSize: disk.size, anomalies: &anomalies)
        return PartitionedDisk(
            scheme: .gpt(header: source), sectorSize: Int(copy.sectorSize), identifier: copy.header.diskGUID,
            partitions: partitions, anomalies: anomalies + partitions.overlapAnomalies())
    }

    /// A damaged or misplaced backup does not stop the read, but the next repair needs to know.
    private static func backupAnomalies(_ primary: GPTCopy, _ disk: any BlockDevice) -> [String] {
        let alternateLBA = primary.header.alternateLBA
        let lastLBA = disk.size / primary.sectorSize - 1
        var anomalies: [String] = []
        if alternateLBA != lastLBA {
            anomalies.append("the GPT header puts its backup at LBA \(alternateLBA), not at the last LBA \(lastLBA)")
        }
        do {
            _ = try GPTCopy.load(disk, lba: alternateLBA, sectorSize: primary.sectorSize)
        } catch {
            anomalies.append("backup GPT header at LBA \(alternateLBA): \(error.reason)")
        }
        return anomalies
    }
}
