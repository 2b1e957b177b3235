import BlockDevices
import ByteParsing

/// An old-style (non-thin) LVM snapshot: the origin as it was, with every chunk the origin
/// has since changed read from the exception store (the COW LV), in device-mapper's
/// persistent format (drivers/md/dm-snap-persistent.c): chunk 0 is a header (magic "SnAp",
/// valid, version 1, chunk size in sectors); then areas, each one chunk of exceptions
/// (old chunk in the origin, new chunk in the store: 16 bytes each) followed by the data
/// chunks it describes. The list ends at the first exception whose new chunk is 0.
struct SnapshotDevice: BlockDevice {
    static let magic: UInt32 = 0x7041_6E53
    static let version: UInt32 = 1

    let origin: any BlockDevice
    let store: any BlockDevice
    let chunkSize: UInt64
    /// Origin chunk → store chunk.
    let exceptions: [UInt64: UInt64]

    var size: UInt64 { origin.size }

    /// Reads the header and every exception; the store's size bounds the areas walked.
    init(origin: any BlockDevice, store: any BlockDevice, chunkSize: UInt64, name: String) throws(LVMError) {
        guard chunkSize >= 512, chunkSize <= 1 << 20, chunkSize.nonzeroBitCount == 1 else {
            throw .metadata("snapshot \(name): chunk size \(chunkSize) bytes", line: nil)
        }
        self.origin = origin
        self.store = store
        self.chunkSize = chunkSize
        let header = try Self.chunk(store, 0, size: chunkSize)
        let valid: UInt32
        do throws(ByteParsingError) {
            let reader = ByteReader(header)
            let magic: UInt32 = try reader.integer(at: 0, "snapshot magic")
            valid = try reader.integer(at: 4, "snapshot valid flag")
            let version: UInt32 = try reader.integer(at: 8, "snapshot version")
            let sectors: UInt32 = try reader.integer(at: 12, "snapshot chunk size")
            guard magic == Self.magic else { throw .invalid(what: "snapshot magic", at: 0, reason: "not \"SnAp\"") }
            guard version == Self.version else { throw .invalid(what: "snapshot version", at: 8, reason: "\(version), not 1") }
            guard UInt64(sectors) * 512 == chunkSize else {
                throw .invalid(what: "snapshot chunk size", at: 12, reason: "\(sectors) sectors, the VG says \(chunkSize / 512)")
            }
        } catch {
            throw .label(error)
        }
        guard valid != 0 else { throw .metadata("snapshot \(name) was invalidated (its store filled up): its contents are lost", line: nil) }
        let perArea = chunkSize / 16
        let chunks = store.size / chunkSize
        var exceptions: [UInt64: UInt64] = [:]
        var area: UInt64 = 0
        reading: while true {
            let location = 1 + (perArea + 1) * area
            guard location < chunks else { break }
            let entries = ByteReader(try Self.chunk(store, location, size: chunkSize), origin: location * chunkSize)
            for index in 0 ..< Int(perArea) {
                do throws(ByteParsingError) {
                    let old: UInt64 = try entries.integer(at: index * 16, "exception origin chunk")
                    let new: UInt64 = try entries.integer(at: index * 16 + 8, "exception store chunk")
                    if new == 0 { break reading }
                    guard new < chunks, old < (origin.size + chunkSize - 1) / chunkSize else {
                        throw .invalid(what: "snapshot exception", at: entries.origin + UInt64(index * 16), reason: "chunk \(old) → \(new) outside the devices")
                    }
                    exceptions[old] = new
                } catch {
                    throw .label(error)
                }
            }
            area += 1
        }
        self.exceptions = exceptions
    }

    private static func chunk(_ store: some BlockDevice, _ index: UInt64, size: UInt64) throws(LVMError) -> [UInt8] {
        do {
            return try store.read(at: index * size, count: Int(size))
        } catch {
            throw .device(error)
        }
    }

    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DiskReadError) {
        try checkRange(offset, buffer.count)
        try forEachBlockPiece(at: offset, of: buffer, blockSize: chunkSize) { chunk, within, piece throws(DiskReadError) in
            // Exceptions were checked to lie inside the store when read.
            if let stored = exceptions[chunk] {
                try store.read(at: stored * chunkSize + within, into: piece)
            } else {
                try origin.read(at: chunk * chunkSize + within, into: piece)
            }
        }
    }
}
