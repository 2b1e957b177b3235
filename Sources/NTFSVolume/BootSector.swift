import ByteParsing

/// The NTFS boot sector (volume byte 0): geometry and where the MFT starts.
///
/// Limits follow what Windows and mkntfs produce: sectors of 256-4096 bytes, clusters up to
/// 2 MiB (Windows 10), file records and index records of 512 bytes (the update-sequence stride) to 64 KiB (the cap keeps a
/// hostile exponent from allocating huge buffers; real volumes use 1 KiB and 4 KiB).
struct BootSector: Sendable {
    static let size = 512
    static let maxClusterSize: UInt64 = 2 << 20
    static let recordSizeRange: ClosedRange<UInt64> = 512 ... 65536

    let bytesPerSector: UInt64
    let clusterSize: UInt64
    let totalSectors: UInt64
    let mftLCN: LCN
    let mftMirrorLCN: LCN
    let fileRecordSize: UInt64
    let indexRecordSize: UInt64
    let serialNumber: UInt64

    /// Clusters that lie inside the volume.
    var clusterCount: UInt64 { totalSectors / (clusterSize / bytesPerSector) }

    static func parse(_ bytes: [UInt8]) throws(ByteParsingError) -> BootSector {
        var reader = ByteReader(bytes)
        try reader.seek(to: 3)
        let oem = try reader.bytes(8, "boot sector OEM id")
        guard oem == Array("NTFS    ".utf8) else {
            throw .invalid(what: "boot sector OEM id", at: 3, reason: "expected 'NTFS    ', found \(Hex.encode(oem))")
        }
        let bytesPerSector = UInt64(try reader.u16("bytes per sector"))
        guard (256 ... 4096).contains(bytesPerSector), bytesPerSector.nonzeroBitCount == 1 else {
            throw .invalid(what: "bytes per sector", at: 0x0B, reason: "\(bytesPerSector) is not a power of two in 256...4096")
        }
        let rawSectorsPerCluster = try reader.u8("sectors per cluster")
        // Values above 128 are negative exponents (Windows uses them for clusters over 64 KiB).
        let sectorsPerCluster: UInt64
        if rawSectorsPerCluster <= 128 {
            sectorsPerCluster = UInt64(rawSectorsPerCluster)
        } else {
            let shift = 256 - UInt64(rawSectorsPerCluster)
            guard shift <= 12 else {
                throw .invalid(what: "sectors per cluster", at: 0x0D, reason: "exponent \(shift) is too large")
            }
            sectorsPerCluster = 1 << shift
        }
        guard sectorsPerCluster > 0, sectorsPerCluster.nonzeroBitCount == 1 else {
            throw .invalid(what: "sectors per cluster", at: 0x0D, reason: "\(rawSectorsPerCluster) is not a power of two")
        }
        let clusterSize = bytesPerSector * sectorsPerCluster
        guard clusterSize <= maxClusterSize else {
            throw .invalid(what: "cluster size", at: 0x0D, reason: "\(clusterSize) bytes is over 2 MiB")
        }
        try reader.seek(to: 0x28)
        let totalSectors = try reader.u64("total sectors")
        let mftLCN = try reader.u64("MFT cluster")
        let mirrorLCN = try reader.u64("MFT mirror cluster")
        let fileRecordSize = try recordSize(Int8(bitPattern: try reader.u8("clusters per file record")), clusterSize, 0x40, "file record size")
        try reader.seek(to: 0x44)
        let indexRecordSize = try recordSize(Int8(bitPattern: try reader.u8("clusters per index record")), clusterSize, 0x44, "index record size")
        try reader.seek(to: 0x48)
        let serial = try reader.u64("volume serial number")
        try reader.seek(to: 0x1FE)
        let signature = try reader.u16("boot sector signature")
        guard signature == 0xAA55 else {
            throw .invalid(what: "boot sector signature", at: 0x1FE, reason: "expected 0xAA55, found 0x\(String(signature, radix: 16))")
        }
        let boot = BootSector(bytesPerSector: bytesPerSector, clusterSize: clusterSize, totalSectors: totalSectors,
                              mftLCN: LCN(mftLCN), mftMirrorLCN: LCN(mirrorLCN), fileRecordSize: fileRecordSize,
                              indexRecordSize: indexRecordSize, serialNumber: serial)
        guard totalSectors > 0, boot.clusterCount > 0 else {
            throw .invalid(what: "total sectors", at: 0x28, reason: "\(totalSectors) sectors hold no whole cluster")
        }
        // The MFT's first record must lie inside the volume.
        let (mftOffset, overflow) = mftLCN.multipliedReportingOverflow(by: clusterSize)
        guard mftLCN < boot.clusterCount, !overflow, mftOffset <= boot.volumeSize,
              fileRecordSize <= boot.volumeSize - mftOffset else {
            throw .invalid(what: "MFT cluster", at: 0x30, reason: "\(mftLCN) lies outside the volume's \(boot.clusterCount) clusters")
        }
        return boot
    }

    /// Bytes in the volume; saturates for a hostile sector count (the device size bounds
    /// every read anyway).
    var volumeSize: UInt64 {
        let (size, overflow) = totalSectors.multipliedReportingOverflow(by: bytesPerSector)
        return overflow ? UInt64.max : size
    }

    /// A signed byte: positive is a count of clusters, negative -n means 2^n bytes.
    private static func recordSize(_ value: Int8, _ clusterSize: UInt64, _ at: UInt64, _ what: String) throws(ByteParsingError) -> UInt64 {
        let size: UInt64
        if value > 0 {
            size = UInt64(value) * clusterSize
        } else {
            let exponent = -Int(value)
            guard exponent < 32 else { throw .invalid(what: what, at: at, reason: "exponent \(exponent) is too large") }
            size = 1 << UInt64(exponent)
        }
        guard recordSizeRange.contains(size), size.nonzeroBitCount == 1 else {
            throw .invalid(what: what, at: at, reason: "\(size) bytes is not a power of two in \(recordSizeRange)")
        }
        return size
    }
}
