import BlockDevices
import ByteParsing

/// One dynamic disk's private region read: its PRIVHEAD, TOCBLOCK and database, each from
/// the newest valid copy the disk holds.
public struct DynamicDisk: Sendable {
    /// Where the disk is in the point ("/disk1"), for messages.
    public let location: String
    /// The whole disk: partitions' starts count from its logical disk start.
    public let device: any BlockDevice
    public let header: PrivateHeader
    public let tableOfContents: TableOfContents
    public let database: Database
    /// Copies that were damaged or older than the one used.
    public let notes: [String]

    /// The config area is 1472 sectors on the disks Windows makes; far larger is refused.
    static let maximumConfigBytes: UInt64 = 16 << 20

    /// Reads the disk's private region, trying a PRIVHEAD at each of `headerOffsets` (bytes
    /// from the disk's start) and at the copies the first valid one's private region keeps.
    public static func read(_ device: any BlockDevice, location: String, headerOffsets: [UInt64]) throws(LDMError) -> DynamicDisk {
        var notes: [String] = []
        var tried = Set<UInt64>()
        var headers: [(offset: UInt64, header: PrivateHeader)] = []
        var queue = headerOffsets
        var firstError: LDMError?
        while let offset = queue.first {
            queue.removeFirst()
            guard tried.insert(offset).inserted else { continue }
            do throws(LDMError) {
                let reader = try readBytes(device, at: offset, count: PrivateHeader.size)
                let header = try parsing { () throws(ByteParsingError) in try PrivateHeader(reader) }
                if headers.isEmpty { queue += copyOffsets(header) }
                headers.append((offset, header))
            } catch {
                firstError = firstError ?? error
                notes.append("PRIVHEAD copy at byte \(offset): \(error)")
            }
        }
        guard let newest = headers.map(\.header.sequence).max(), let chosen = headers.first(where: { $0.header.sequence == newest }) else {
            throw firstError ?? .database("no PRIVHEAD")
        }
        notes += headers.filter { $0.header.sequence < newest }.map { "PRIVHEAD copy at byte \($0.offset) is older (sequence \($0.header.sequence))" }
        let header = chosen.header
        let toc = try tableOfContents(device, header, notes: &notes)
        let database = try readDatabase(device, header, toc)
        return DynamicDisk(location: location, device: device, header: header, tableOfContents: toc, database: database, notes: notes)
    }

    /// The PRIVHEAD copies in a private region: 192 sectors before its end and in its last sector.
    private static func copyOffsets(_ header: PrivateHeader) -> [UInt64] {
        let end = header.configStart + header.configSize
        return [end - 1, end >= 192 ? end - 192 : end - 1].map { $0 * PrivateHeader.sectorSize }
    }

    /// The newest valid TOCBLOCK: in sectors 1 and 2 of the private region and 196 and 195 before its end.
    private static func tableOfContents(_ device: any BlockDevice, _ header: PrivateHeader, notes: inout [String]) throws(LDMError) -> TableOfContents {
        let size = header.configSize
        let sectors = [1, 2, size > 196 ? size - 196 : 1, size > 195 ? size - 195 : 2]
        var found: [TableOfContents] = []
        var firstError: LDMError?
        for sector in Set(sectors).sorted() where sector < size {
            let offset = (header.configStart + sector) * PrivateHeader.sectorSize
            do throws(LDMError) {
                let reader = try readBytes(device, at: offset, count: Int(PrivateHeader.sectorSize))
                found.append(try parsing { () throws(ByteParsingError) in try TableOfContents(reader, regionSize: size) })
            } catch {
                firstError = firstError ?? error
            }
        }
        guard let newest = found.map(\.sequence).max(), let chosen = found.first(where: { $0.sequence == newest }) else {
            throw firstError ?? .database("no TOCBLOCK in the private region")
        }
        if found.count < 2 { notes.append("only \(found.count) of the TOCBLOCK copies is valid") }
        return chosen
    }

    private static func readDatabase(_ device: any BlockDevice, _ header: PrivateHeader, _ toc: TableOfContents) throws(LDMError) -> Database {
        let bytes = toc.config.size * PrivateHeader.sectorSize
        guard bytes <= maximumConfigBytes else {
            throw .database("config area of \(bytes) bytes is larger than \(maximumConfigBytes)")
        }
        // The PRIVHEAD checked that the region's end fits, and the TOCBLOCK that the area is inside it.
        let offset = (header.configStart + toc.config.start) * PrivateHeader.sectorSize
        let reader = try readBytes(device, at: offset, count: Int(bytes))
        return try parsing { () throws(ByteParsingError) in try Database(reader) }
    }
}
