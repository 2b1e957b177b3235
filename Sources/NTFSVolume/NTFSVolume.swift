#if canImport(Glibc)
import Glibc
#endif
import BlockDevices
import ByteParsing
import Synchronization
import VolumeModel

/// An NTFS volume, read-only, parsed in Swift.
///
/// Node numbers are MFT record numbers (the root is 5). State after `open` is immutable;
/// assembled files, directory listings and shared security descriptors are cached behind mutexes, so many threads read at
/// once and data reads go straight to the device. A damaged record, index or run fails the
/// file or directory it belongs to with `VolumeError.corrupt`; the rest stays readable.
public final class NTFSVolume: Volume {
    /// What NTFS does not store the POSIX way: Windows ACLs have no owner uid or mode bits, so
    /// every file shows these (the read-only DOS attribute is in `user.ntfs.attributes`).
    public struct Ownership: Sendable, Equatable {
        public var uid: UInt32
        public var gid: UInt32
        public var fileMode: UInt16
        public var directoryMode: UInt16

        /// The user running rpfs, files 0444, directories 0555.
        public init(uid: UInt32 = geteuid(), gid: UInt32 = getegid(), fileMode: UInt16 = 0o444, directoryMode: UInt16 = 0o555) {
            self.uid = uid
            self.gid = gid
            self.fileMode = fileMode & 0o7777
            self.directoryMode = directoryMode & 0o7777
        }
    }

    public static let rootRecord: UInt64 = 5
    /// Records 0-15 are metafiles ($MFT ... $Extend and reserved ones), hidden from the tree.
    static let firstUserRecord: UInt64 = 16
    static let maxExtensionRecords = 4096
    static let maxAttributeListEntries = 100_000
    /// Largest named stream shown as an extended attribute (Linux's XATTR_SIZE_MAX).
    static let maxStreamXattrSize: UInt64 = 65536
    static let maxLinkTargetSize: UInt64 = 16384

    public let info: NTFSInfo
    /// Names the volume in every error message.
    public let name: String
    public let ownership: Ownership
    public var rootNode: UInt64 { Self.rootRecord }

    let device: any BlockDevice
    let boot: BootSector
    let clusterSize: UInt64
    /// Clusters inside both the volume and the device: every stored run must lie below.
    let clusterCount: UInt64
    let recordSize: UInt64
    /// $MFT's own $DATA: where each record is.
    let mft: DataStream
    let recordCount: UInt64
    let upCase: UpCase

    let files = Mutex(BoundedCache<UInt64, NTFSFile>(maxCount: 4096, maxWeight: 1 << 20))
    let listings = Mutex(BoundedCache<UInt64, DirectoryListing>(maxCount: 256, maxWeight: 1 << 18))
    /// $Secure's descriptors by security id (many files share one), weighed in bytes.
    let descriptors = Mutex(BoundedCache<UInt32, [UInt8]>(maxCount: 1024, maxWeight: 4 << 20))

    public let notes: [String]

    private init(device: any BlockDevice, name: String, ownership: Ownership, boot: BootSector, clusterCount: UInt64,
                 mft: DataStream, upCase: UpCase, info: NTFSInfo, notes: [String]) {
        self.notes = notes
        self.device = device
        self.name = name
        self.ownership = ownership
        self.boot = boot
        clusterSize = boot.clusterSize
        self.clusterCount = clusterCount
        recordSize = boot.fileRecordSize
        self.mft = mft
        recordCount = mft.dataSize / boot.fileRecordSize
        self.upCase = upCase
        self.info = info
    }

    /// Opens the NTFS volume on `device` (a whole partition), read-only. `name` labels the
    /// volume in error messages; `ownership` is what every file shows as owner and mode.
    public static func open(_ device: any BlockDevice, name: String, ownership: Ownership = Ownership(),
                            bootSectorAt bootOffset: UInt64 = 0) throws(VolumeError) -> NTFSVolume {
        let bootBytes: [UInt8]
        do {
            bootBytes = try device.read(at: bootOffset, count: BootSector.size)
        } catch {
            throw .device(error, VolumeRead(volume: name, offset: bootOffset, count: BootSector.size, purpose: "boot sector"))
        }
        let boot: BootSector
        do {
            boot = try BootSector.parse(bootBytes)
        } catch {
            throw .corrupt(volume: name, structure: "boot sector", at: bootOffset, problem: "\(error)")
        }
        let clusterCount = min(boot.clusterCount, device.size / boot.clusterSize)
        let (record0, mirrorNotes) = try readRecord0(device, name: name, boot: boot, clusterCount: clusterCount)
        let notes = (bootOffset == 0 ? [] : ["\(name): read through the backup boot sector at byte \(bootOffset) (the primary cannot be read)"])
            + mirrorNotes.map { "\(name): \($0)" }
        let mftStart = boot.mftLCN.value * boot.clusterSize
        let initialMFT: DataStream
        do {
            let extents = record0.attributes.filter { $0.typeCode == AttributeType.data.rawValue && $0.name.isEmpty }
            initialMFT = try DataStream.merge(extents, clusterSize: boot.clusterSize, "$MFT $DATA")
        } catch {
            throw .corrupt(volume: name, structure: "$MFT record 0", at: mftStart, problem: "\(error)")
        }
        guard case .runs = initialMFT.storage, initialMFT.dataSize >= 16 * boot.fileRecordSize else {
            throw .corrupt(volume: name, structure: "$MFT record 0", at: mftStart,
                           problem: "$DATA holds \(initialMFT.dataSize) bytes, fewer than the 16 system records")
        }
        var volume = NTFSVolume(device: device, name: name, ownership: ownership, boot: boot, clusterCount: clusterCount, mft: initialMFT,
                                upCase: .ascii, info: Self.placeholderInfo(boot, clusterCount), notes: notes)
        // A very fragmented MFT continues in extension records listed by $ATTRIBUTE_LIST:
        // read them through the part mapped so far.
        if record0.attributes.contains(where: { $0.typeCode == AttributeType.attributeList.rawValue }) {
            let full = try volume.file(0)
            guard let data = full.data else { throw .corrupt(volume: name, structure: "MFT record 0", problem: "$MFT has no $DATA") }
            volume = NTFSVolume(device: device, name: name, ownership: ownership, boot: boot, clusterCount: clusterCount, mft: data,
                                upCase: .ascii, info: volume.info, notes: notes)
        }
        let upCase = (try? volume.loadUpCase()) ?? .ascii
        let info = volume.volumeInfo()
        volume = NTFSVolume(device: device, name: name, ownership: ownership, boot: boot, clusterCount: clusterCount, mft: volume.mft,
                            upCase: upCase, info: info, notes: notes)
        let root = try volume.attributes(of: rootRecord)
        guard root.kind == .directory else {
            throw .corrupt(volume: name, structure: "MFT record 5", problem: "the root is a \(root.kind.rawValue), not a directory")
        }
        return volume
    }

    /// Record 0, which maps the MFT itself: where the boot sector says, or, when those bytes
    /// are damaged, from `$MFTMirr`, which keeps copies of records 0 to 3 elsewhere (with a
    /// note saying so).
    private static func readRecord0(_ device: any BlockDevice, name: String, boot: BootSector,
                                    clusterCount: UInt64) throws(VolumeError) -> (FileRecord, notes: [String]) {
        let size = Int(boot.fileRecordSize)
        func read(_ lcn: UInt64, _ purpose: String) throws(VolumeError) -> FileRecord {
            let offset = lcn * boot.clusterSize
            guard lcn < clusterCount, boot.fileRecordSize <= device.size - offset else {
                throw .corrupt(volume: name, structure: "boot sector", problem: "\(purpose) at cluster \(lcn) lies outside the \(device.size)-byte device")
            }
            let raw: [UInt8]
            do {
                raw = try device.read(at: offset, count: size)
            } catch {
                throw .device(error, VolumeRead(volume: name, offset: offset, count: size, purpose: purpose))
            }
            do {
                return try FileRecord.parse(raw, number: 0, origin: offset, clusterCount: clusterCount)
            } catch {
                throw .corrupt(volume: name, structure: purpose, at: offset, problem: "\(error)")
            }
        }
        do {
            return (try read(boot.mftLCN.value, "$MFT record 0"), [])
        } catch {
            guard case let .device(readError, _) = error, readError.isDamage,
                  let mirror = try? read(boot.mftMirrorLCN.value, "$MFTMirr record 0") else { throw error }
            return (mirror, ["$MFT record 0 cannot be read (\(readError)): using its copy in $MFTMirr at cluster \(boot.mftMirrorLCN.value)"])
        }
    }

    private static func placeholderInfo(_ boot: BootSector, _ clusterCount: UInt64) -> NTFSInfo {
        NTFSInfo(label: "", serialNumber: boot.serialNumber, bytesPerSector: UInt32(boot.bytesPerSector),
                 clusterSize: UInt32(boot.clusterSize), clusterCount: clusterCount, mftRecordSize: UInt32(boot.fileRecordSize),
                 indexRecordSize: UInt32(boot.indexRecordSize), majorVersion: 0, minorVersion: 0, isDirty: false)
    }

    /// $UpCase (record 10): 64 K UTF-16 units. Without it, lookups fold ASCII only.
    private func loadUpCase() throws(VolumeError) -> UpCase? {
        let file = try file(10)
        guard let data = file.data, data.dataSize == 2 * UInt64(UpCase.entryCount) else { return nil }
        return UpCase(try readAll(data, "$UpCase"))
    }

    /// Label and version from $Volume (record 3); a damaged $Volume leaves them empty rather
    /// than failing the whole volume.
    private func volumeInfo() -> NTFSInfo {
        var label = ""
        var major: UInt8 = 0
        var minor: UInt8 = 0
        var dirty = false
        if let file = try? file(3) {
            if let value = file.attributes(.volumeName).first, case let .resident(bytes) = value.body,
               let units = try? UTF16Text.units(bytes, at: 0, count: bytes.count / 2, origin: 0, "volume name") {
                label = UTF16Text.string(units)
            }
            if let value = file.attributes(.volumeInformation).first, case let .resident(bytes) = value.body, bytes.count >= 12 {
                major = bytes[8]
                minor = bytes[9]
                dirty = bytes[10] & 0x01 != 0
            }
        }
        return NTFSInfo(label: label, serialNumber: boot.serialNumber, bytesPerSector: UInt32(boot.bytesPerSector),
                        clusterSize: UInt32(clusterSize), clusterCount: clusterCount, mftRecordSize: UInt32(recordSize),
                        indexRecordSize: UInt32(boot.indexRecordSize), majorVersion: major, minorVersion: minor, isDirty: dirty)
    }

    /// Corruption of `structure` ("MFT record 12") on this volume, at volume byte `offset` when known.
    func corrupt(_ structure: String, at offset: UInt64? = nil, _ problem: String) -> VolumeError {
        .corrupt(volume: name, structure: structure, at: offset, problem: problem)
    }

    // MARK: - Volume

    public func attributes(of node: UInt64) throws(VolumeError) -> NodeAttributes {
        if let named = try namedStream(node) {
            var attributes = try self.attributes(of: named.record)
            attributes.node = node
            attributes.kind = .regular
            attributes.permissions = ownership.fileMode
            attributes.size = named.stream.dataSize
            attributes.allocatedBytes = named.stream.allocatedBytes
            attributes.linkCount = 1
            return attributes
        }
        let file = try file(node)
        let times = file.standardInformation.map { ($0.created, $0.modified, $0.changed, $0.accessed) }
            ?? file.names.first.map { ($0.created, $0.modified, $0.changed, $0.accessed) } ?? (0, 0, 0, 0)
        var size: UInt64 = 0
        var allocated: UInt64 = 0
        let permissions: UInt16
        switch file.kind {
        case .directory:
            permissions = ownership.directoryMode
            if let allocation = try? stream(file, .indexAllocation, named: AttributeRecord.i30) {
                size = allocation.dataSize
                allocated = allocation.allocatedBytes
            }
        case .symlink:
            permissions = 0o777
            size = UInt64(file.linkTarget?.count ?? 0)
        default:
            permissions = ownership.fileMode
            size = file.data?.dataSize ?? 0
            allocated = file.data?.allocatedBytes ?? 0
            // A WOF file occupies its compressed stream; its $DATA is sparse.
            if file.reparse?.tag == ReparsePoint.wof, let compressed = file.wofStream { allocated = compressed.allocatedBytes }
        }
        return NodeAttributes(node: node, kind: file.kind, permissions: permissions, uid: ownership.uid, gid: ownership.gid, size: size,
                              allocatedBytes: allocated, linkCount: UInt32(max(file.names.count, 1)),
                              accessed: NTFSTime.timestamp(times.3), modified: NTFSTime.timestamp(times.1),
                              changed: NTFSTime.timestamp(times.2), created: NTFSTime.timestamp(times.0), device: 0)
    }

    public func entries(of directory: UInt64) throws(VolumeError) -> [DirectoryEntry] {
        try listing(of: directory).entries
    }

    public func lookup(_ name: FileName, in directory: UInt64) throws(VolumeError) -> UInt64 {
        let listing = try listing(of: directory)
        // The stored case first (POSIX-namespace names may differ only in case), then as
        // Windows compares: both sides through $UpCase.
        if let index = listing.byName[name] { return listing.entries[index].node }
        let folded = upCase.fold(Array(String(decoding: name.bytes, as: UTF8.self).utf16))
        if let index = listing.byFoldedName[folded] { return listing.entries[index].node }
        // "FILE:STREAM", as Windows names a named stream (and ntfs-3g's streams_interface=windows
        // shows it): found by name, never listed. A Win32 name cannot hold ':', so a real name
        // with one (POSIX namespace) was found above.
        if let colon = name.bytes.firstIndex(of: UInt8(ascii: ":")), colon > 0, colon < name.bytes.count - 1,
           let file = try? FileName(validating: Array(name.bytes[..<colon])) {
            return try streamNode(of: try lookup(file, in: directory), named: String(decoding: name.bytes[(colon + 1)...], as: UTF8.self))
        }
        throw .notFound("\(self.name): '\(name)' in directory record \(directory)")
    }

    public func read(_ node: UInt64, at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(VolumeError) -> Int {
        switch try readableContent(node) {
        case let .stream(data): return try read(data, at: offset, into: buffer, "record \(node) $DATA")
        case let .wof(wof): return try read(wof, record: node, at: offset, into: buffer)
        }
    }

    public func symlinkTarget(of node: UInt64) throws(VolumeError) -> [UInt8] {
        guard node < Self.streamNodeBase else { throw .notASymlink("\(name): stream node \(node) is a regular file") }
        let file = try file(node)
        guard file.kind == .symlink, let target = file.linkTarget else {
            throw .notASymlink("\(name): record \(node) is a \(file.kind.rawValue)")
        }
        return target
    }

    public func namedStreams(of node: UInt64) throws(VolumeError) -> [NamedStream] {
        if try namedStream(node) != nil { return [] }
        let file = try file(node)
        return file.userStreams.map { name, stream in
            NamedStream(name: UTF16Text.string(name), size: stream.dataSize, isExtendedAttribute: Self.isExtendedAttribute(stream, of: file))
        }.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    /// A named stream's node: its record number with the stream's place in the record (1-255)
    /// in bits 40-47. Record numbers stay below 2^40 (`record(_:)`), so it never names a
    /// record, and it fits the 48 bits `PointNamespace` gives a volume's nodes: a mount gives
    /// each stream an inode number of its own.
    func streamNode(of node: UInt64, named streamName: String) throws(VolumeError) -> UInt64 {
        guard node < Self.streamNodeBase else { throw .notFound("\(name): stream '\(streamName)' of a stream") }
        let file = try file(node)
        let wanted = Array(streamName.utf16)
        // The stored spelling first, then as Windows compares stream names: through $UpCase.
        let index = file.streams.firstIndex { $0.name == wanted }
            ?? file.streams.firstIndex { upCase.fold($0.name) == upCase.fold(wanted) }
        guard let index else {
            let known = file.streams.map { "'\(UTF16Text.string($0.name))'" }.joined(separator: ", ")
            throw .notFound("\(name): record \(node) has no stream '\(streamName)' (it has \(known.isEmpty ? "none" : known))")
        }
        guard index < Self.maxStreamsPerFile else {
            throw .unsupported("\(name): stream '\(streamName)' is past the first \(Self.maxStreamsPerFile) streams of record \(node)")
        }
        return node | UInt64(index + 1) * Self.streamNodeBase
    }

    /// Record numbers below this; stream nodes at or above it.
    static let streamNodeBase: UInt64 = 1 << 40
    static let maxStreamsPerFile = 255

    /// The record and stream behind a stream node from `streamNode`; nil for a record's own node.
    private func namedStream(_ node: UInt64) throws(VolumeError) -> (record: UInt64, stream: DataStream)? {
        guard node >= Self.streamNodeBase else { return nil }
        let record = node % Self.streamNodeBase
        let file = try file(record)
        let index = Int(node / Self.streamNodeBase) - 1
        guard file.streams.indices.contains(index) else { throw .notFound("\(name): stream \(index + 1) of record \(record)") }
        let stream = file.streams[index].stream
        guard !stream.isEncrypted, !file.isEncrypted else {
            throw .refused("\(name): stream '\(UTF16Text.string(file.streams[index].name))' of record \(record) is encrypted with EFS; on disk it is ciphertext")
        }
        return (record, stream)
    }

    /// Encrypted streams are ciphertext; streams over the xattr size limit cannot be set on
    /// Linux either (`namedStreams` still lists both; a `FILE:STREAM` lookup reads those not
    /// encrypted).
    private static func isExtendedAttribute(_ stream: DataStream, of file: NTFSFile) -> Bool {
        !stream.isEncrypted && !file.isEncrypted && stream.dataSize <= maxStreamXattrSize
    }

    public func extendedAttributes(of node: UInt64) throws(VolumeError) -> [ExtendedAttribute] {
        if try namedStream(node) != nil { return [] }
        let file = try file(node)
        var attributes = [ExtendedAttribute(name: "user.ntfs.attributes", value: Self.littleEndian(file.fileAttributes))]
        if let descriptor = try securityDescriptor(of: file) {
            attributes.append(ExtendedAttribute(name: Self.securityDescriptorXattr, value: descriptor.bytes))
        }
        for (streamName, stream) in file.userStreams where Self.isExtendedAttribute(stream, of: file) {
            let label = UTF16Text.string(streamName)
            let value = try readAll(stream, "record \(node) stream '\(label)'")
            attributes.append(ExtendedAttribute(name: "user.ntfs.stream." + label, value: value))
        }
        return attributes.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    public func dataRanges(of node: UInt64) throws(VolumeError) -> [Range<UInt64>] {
        switch try readableContent(node) {
        case let .stream(data): return dataRanges(of: data)
        // Every chunk holds data once decompressed (WOF keeps no holes).
        case let .wof(wof): return wof.size == 0 ? [] : [0 ..< wof.size]
        }
    }

    static func littleEndian(_ value: UInt32) -> [UInt8] {
        (0 ..< 4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    /// The unnamed $DATA of a regular file (or a stream node's stream), or its WOF-compressed
    /// data, refusing directories, links, EFS ciphertext and the stubs of other reparse points.
    func readableContent(_ node: UInt64) throws(VolumeError) -> FileContent {
        if let named = try namedStream(node) { return .stream(named.stream) }
        let file = try file(node)
        switch file.kind {
        case .regular: break
        case .directory: throw .isADirectory("\(name): record \(node)")
        default: throw .unsupported("\(name): record \(node) is a \(file.kind.rawValue): it has no file data to read")
        }
        guard !file.isEncrypted else {
            throw .refused("\(name): record \(node) is encrypted with EFS; its data on disk is ciphertext and cannot be shown without the user's key")
        }
        if let reparse = file.reparse { return try reparseContent(file, reparse) }
        return .stream(file.data ?? .empty)
    }
}
