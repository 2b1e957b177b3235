#if canImport(Glibc)
import Glibc
#endif
import ByteParsing
import PointNamespace
import VolumeModel

/// Writes members as a zip (docs/ARCHIVES.md): stored, not compressed; each followed by a data
/// descriptor; ZIP64 where a size, offset or count needs it; names flagged UTF-8 when they
/// are; the Unix mode in the external attributes; symlinks as Unix symlink entries. Zip has
/// no hard links (each name gets the bytes again) and no FIFOs, sockets or device nodes
/// (left out, with a note). The central directory is the one thing kept until the end: about
/// 80 bytes and the name per member.
final class ZipWriter: ArchiveFormatWriter {
    private let namespace: PointNamespace
    private let output: ArchiveOutput
    private var central: [UInt8] = []
    private var entries: UInt64 = 0
    private(set) var report = ArchiveReport()

    init(namespace: PointNamespace, output: ArchiveOutput) {
        self.namespace = namespace
        self.output = output
    }

    func add(_ member: ArchiveMember) throws(ArchiveError) {
        let attributes = member.attributes
        let type: UInt32
        switch attributes.kind {
        case .directory: type = UInt32(S_IFDIR)
        case .regular: type = UInt32(S_IFREG)
        case .symlink: type = UInt32(S_IFLNK)
        case .fifo, .socket, .blockDevice, .characterDevice:
            report.notes.append("\(member.path): left out (zip has no FIFOs, sockets or device nodes; tar has)")
            return
        }
        var (name, changed) = ZipNames.portable(member.name)
        if changed { report.notes.append("\(member.path): stored as '\(String(decoding: name, as: UTF8.self))' (a name Windows would read as a path)") }
        if attributes.kind == .directory { name.append(UInt8(ascii: "/")) }
        let (dosTime, dosDate) = Self.dosTime(attributes.modified)
        // MS-DOS directory attribute (0x10) in the low byte, for extractors that look there.
        let dosAttributes: UInt32 = attributes.kind == .directory ? 0x10 : 0
        var entry = ZipRecords.Entry(
            name: name, flags: ZipRecords.dataDescriptorFlag | (ZipNames.isUTF8(name) ? ZipRecords.utf8Flag : 0),
            dosTime: dosTime, dosDate: dosDate, offset: output.position,
            externalAttributes: (type | UInt32(attributes.permissions & 0o7777)) << 16 | dosAttributes,
            modified: attributes.modified, uid: attributes.uid, gid: attributes.gid,
            zip64Local: attributes.kind == .regular && attributes.size >= UInt64(ZipRecords.overflow32))
        try output.append(ZipRecords.localHeader(entry))
        let contents = MemberContents(namespace: namespace, member: member)
        switch attributes.kind {
        case .regular:
            entry.crc = try writeData(contents, size: attributes.size)
            entry.size = attributes.size
            report.files += 1
            report.contentBytes += attributes.size
        case .symlink:
            let target = try contents.symlinkTarget()
            try output.append(target)
            entry.crc = target.withUnsafeBytes { CRC32.update(0, $0) }
            entry.size = UInt64(target.count)
            report.symlinks += 1
        default:
            report.directories += 1
        }
        try output.append(ZipRecords.dataDescriptor(entry))
        central += ZipRecords.centralHeader(entry)
        entries += 1
    }

    /// A file's bytes and their CRC: data ranges read, holes as zeros the sink may skip, and
    /// their CRC by arithmetic.
    private func writeData(_ contents: MemberContents, size: UInt64) throws(ArchiveError) -> UInt32 {
        var crc: UInt32 = 0
        var offset: UInt64 = 0
        for range in try contents.dataRanges() + [size ..< size] {
            let hole = range.lowerBound - offset
            crc = CRC32.zeros(crc, count: hole)
            try output.zeros(hole)
            try output.produce(range.upperBound - range.lowerBound) { piece, done throws(ArchiveError) in
                try contents.read(at: range.lowerBound + done, into: piece)
                crc = CRC32.update(crc, UnsafeRawBufferPointer(piece))
            }
            offset = range.upperBound
        }
        return crc
    }

    func finish() throws(ArchiveError) {
        let directoryOffset = output.position
        try output.append(central)
        try output.append(ZipRecords.end(entries: entries, directorySize: UInt64(central.count), directoryOffset: directoryOffset))
        try output.flush()
    }

    /// The DOS date and time fields, in UTC (the "UT" extra field carries the exact second),
    /// clamped to what they can hold: 1980 to 2107.
    static func dosTime(_ time: Timestamp) -> (time: UInt16, date: UInt16) {
        var seconds = time_t(clamping: time.seconds)
        var civil = tm()
        guard gmtime_r(&seconds, &civil) != nil else { return (0, 0x21) }
        let year = Int(civil.tm_year) + 1900
        if year < 1980 { return (0, 0x21) }
        if year > 2107 { return (0xBF7D, 0xFF9F) }
        let date = UInt16(year - 1980) << 9 | UInt16(civil.tm_mon + 1) << 5 | UInt16(civil.tm_mday)
        let clock = UInt16(civil.tm_hour) << 11 | UInt16(civil.tm_min) << 5 | UInt16(civil.tm_sec / 2)
        return (clock, date)
    }
}
