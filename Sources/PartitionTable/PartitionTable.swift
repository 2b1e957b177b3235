import BlockDevices

/// Reads how a disk is partitioned: GPT (512- or 4096-byte sectors), MBR with its EBR chain,
/// or nothing, when the disk starts with a filesystem.
public enum PartitionTable {
    public static func read(_ disk: some BlockDevice) throws(PartitionTableError) -> PartitionedDisk {
        let count = Int(min(disk.size, UInt64(VolumeProbe.headSize)))
        let head: [UInt8]
        do {
            head = try disk.read(at: 0, count: count)
        } catch {
            // The first sectors are damaged or missing (a chunk that fails authentication): a
            // GPT keeps a backup header and entry array at the disk's end, which may be intact.
            // (A store that does not answer is no damage: nothing else would read either.)
            if error.isDamage, let backup = try? GPT.read(disk, anomalies: [], unreadable: "the first sectors cannot be read (\(error))") {
                return backup
            }
            throw .unreadable(what: "first sectors", offset: 0, error)
        }
        let mbr = MBRSector(head)
        if let mbr, mbr.isProtective {
            let hybrid = mbr.isHybrid ? ["hybrid MBR: its other entries are ignored, the GPT is authoritative"] : []
            return try GPT.read(disk, anomalies: hybrid)
        }
        // FAT, NTFS and BitLocker boot sectors end in 0x55AA too: a filesystem here means no table.
        if mbr != nil, VolumeProbe.identifyStart(head) != nil {
            return .unpartitioned()
        }
        if mbr?.isEmpty ?? true, !GPT.signedSectorSizes(disk).isEmpty {
            return try GPT.read(disk, anomalies: ["sector 0 holds no protective MBR"])
        }
        guard let mbr else { return .unpartitioned() }
        guard mbr.hasValidBootFlags else {
            return .unpartitioned(anomalies: ["sector 0 ends in 0x55AA but has boot flags other than 0x00 and 0x80: not a partition table"])
        }
        return MBR.read(mbr, disk: disk)
    }
}
