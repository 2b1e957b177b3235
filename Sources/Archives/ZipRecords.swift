import ByteParsing
import VolumeModel

/// The records of a zip file (PKWARE APPNOTE 6.3.10), little-endian. Every member is stored
/// (method 0), followed by a data descriptor (flag bit 3) because its CRC is known only once
/// its bytes have gone out.
enum ZipRecords {
    static let localHeaderSignature: UInt32 = 0x0403_4B50
    static let dataDescriptorSignature: UInt32 = 0x0807_4B50
    static let centralHeaderSignature: UInt32 = 0x0201_4B50
    static let zip64EndSignature: UInt32 = 0x0606_4B50
    static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    static let endSignature: UInt32 = 0x0605_4B50

    /// Flag bit 3: sizes and CRC follow the data. Bit 11: the name is UTF-8.
    static let dataDescriptorFlag: UInt16 = 1 << 3
    static let utf8Flag: UInt16 = 1 << 11
    /// Version 2.0 reads stored members and data descriptors; 4.5 adds ZIP64.
    static let version20: UInt16 = 20
    static let version45: UInt16 = 45
    /// "Made by" Unix (3 in the high byte): extractors then read the mode from the external
    /// attributes' high 16 bits.
    static let madeByUnix: UInt16 = 3 << 8 | 45
    /// A 16- or 32-bit field whose value is in the ZIP64 extra field instead.
    static let overflow16: UInt16 = 0xFFFF
    static let overflow32: UInt32 = 0xFFFF_FFFF

    /// What the central directory needs of a member once its data is written.
    struct Entry {
        var name: [UInt8]
        var flags: UInt16
        var dosTime: UInt16
        var dosDate: UInt16
        var crc: UInt32 = 0
        var size: UInt64 = 0
        var offset: UInt64
        var externalAttributes: UInt32
        var modified: Timestamp
        var uid: UInt32
        var gid: UInt32
        /// Whether the local header carries a ZIP64 extra field (a file of 4 GiB or more),
        /// so its data descriptor has 8-byte sizes.
        var zip64Local: Bool
    }

    static func localHeader(_ entry: Entry) -> [UInt8] {
        var extra = ByteWriter()
        if entry.zip64Local {
            // Sizes come in the data descriptor; the field says there will be 8-byte ones.
            extra.append(UInt16(0x0001))
            extra.append(UInt16(16))
            extra.append(UInt64(0))
            extra.append(UInt64(0))
        }
        appendTimes(&extra, entry.modified)
        appendOwner(&extra, entry)
        var header = ByteWriter(capacity: 30 + entry.name.count + extra.bytes.count)
        header.append(localHeaderSignature)
        header.append(entry.zip64Local ? version45 : version20)
        header.append(entry.flags)
        header.append(UInt16(0))
        header.append(entry.dosTime)
        header.append(entry.dosDate)
        header.append(UInt32(0))
        header.append(entry.zip64Local ? overflow32 : 0)
        header.append(entry.zip64Local ? overflow32 : 0)
        header.append(UInt16(entry.name.count))
        header.append(UInt16(extra.bytes.count))
        header.append(bytes: entry.name)
        header.append(bytes: extra.bytes)
        return header.bytes
    }

    static func dataDescriptor(_ entry: Entry) -> [UInt8] {
        var descriptor = ByteWriter(capacity: 24)
        descriptor.append(dataDescriptorSignature)
        descriptor.append(entry.crc)
        if entry.zip64Local {
            descriptor.append(entry.size)
            descriptor.append(entry.size)
        } else {
            descriptor.append(UInt32(entry.size))
            descriptor.append(UInt32(entry.size))
        }
        return descriptor.bytes
    }

    static func centralHeader(_ entry: Entry) -> [UInt8] {
        // ZIP64 fields appear in this order, each only when its 32-bit field overflows.
        var zip64 = ByteWriter()
        let bigSize = entry.size >= UInt64(overflow32)
        let bigOffset = entry.offset >= UInt64(overflow32)
        if bigSize {
            zip64.append(entry.size)
            zip64.append(entry.size)
        }
        if bigOffset { zip64.append(entry.offset) }
        var extra = ByteWriter()
        if !zip64.bytes.isEmpty {
            extra.append(UInt16(0x0001))
            extra.append(UInt16(zip64.bytes.count))
            extra.append(bytes: zip64.bytes)
        }
        appendTimes(&extra, entry.modified)
        appendOwner(&extra, entry)
        var header = ByteWriter(capacity: 46 + entry.name.count + extra.bytes.count)
        header.append(centralHeaderSignature)
        header.append(madeByUnix)
        header.append(bigSize || bigOffset || entry.zip64Local ? version45 : version20)
        header.append(entry.flags)
        header.append(UInt16(0))
        header.append(entry.dosTime)
        header.append(entry.dosDate)
        header.append(entry.crc)
        header.append(bigSize ? overflow32 : UInt32(entry.size))
        header.append(bigSize ? overflow32 : UInt32(entry.size))
        header.append(UInt16(entry.name.count))
        header.append(UInt16(extra.bytes.count))
        header.append(UInt16(0))
        header.append(UInt16(0))
        header.append(UInt16(0))
        header.append(entry.externalAttributes)
        header.append(bigOffset ? overflow32 : UInt32(entry.offset))
        header.append(bytes: entry.name)
        header.append(bytes: extra.bytes)
        return header.bytes
    }

    /// The end of the archive: ZIP64 end record and locator when a count, size or offset
    /// overflows the classic record, then the classic record.
    static func end(entries: UInt64, directorySize: UInt64, directoryOffset: UInt64) -> [UInt8] {
        var end = ByteWriter(capacity: 98)
        let zip64 = entries >= UInt64(overflow16) || directorySize >= UInt64(overflow32) || directoryOffset >= UInt64(overflow32)
        if zip64 {
            let recordOffset = directoryOffset + directorySize
            end.append(zip64EndSignature)
            end.append(UInt64(44))
            end.append(madeByUnix)
            end.append(version45)
            end.append(UInt32(0))
            end.append(UInt32(0))
            end.append(entries)
            end.append(entries)
            end.append(directorySize)
            end.append(directoryOffset)
            end.append(zip64LocatorSignature)
            end.append(UInt32(0))
            end.append(recordOffset)
            end.append(UInt32(1))
        }
        end.append(endSignature)
        end.append(UInt16(0))
        end.append(UInt16(0))
        end.append(UInt16(min(entries, UInt64(overflow16))))
        end.append(UInt16(min(entries, UInt64(overflow16))))
        end.append(UInt32(min(directorySize, UInt64(overflow32))))
        end.append(UInt32(min(directoryOffset, UInt64(overflow32))))
        end.append(UInt16(0))
        return end.bytes
    }

    /// The "UT" extended timestamp (0x5455): the modification time in UTC seconds, which
    /// Info-ZIP and others prefer to the DOS time (local, two-second steps, 1980-2107).
    private static func appendTimes(_ extra: inout ByteWriter, _ modified: Timestamp) {
        extra.append(UInt16(0x5455))
        extra.append(UInt16(5))
        extra.append(UInt8(1))
        extra.append(UInt32(bitPattern: Int32(clamping: modified.seconds)))
    }

    /// The Info-ZIP Unix owner field (0x7875): uid and gid, four bytes each.
    private static func appendOwner(_ extra: inout ByteWriter, _ entry: Entry) {
        extra.append(UInt16(0x7875))
        extra.append(UInt16(11))
        extra.append(UInt8(1))
        extra.append(UInt8(4))
        extra.append(entry.uid)
        extra.append(UInt8(4))
        extra.append(entry.gid)
    }
}
