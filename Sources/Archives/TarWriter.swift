import PointNamespace
import VolumeModel

/// Writes members as a POSIX pax tar (docs/ARCHIVES.md): ustar headers, with a pax extended
/// header before a member whose path, link target, size, owner or time a ustar field cannot
/// hold, or that has extended attributes (SCHILY.xattr.NAME) or POSIX ACLs (SCHILY.acl.access,
/// SCHILY.acl.default, as GNU tar writes them). Hard links are link entries to the first name
/// of the node; files with holes are GNU sparse 1.0 members (the map, then only the data).
/// What it keeps between members is the first name of each multiply-linked node.
final class TarWriter: ArchiveFormatWriter {
    private let namespace: PointNamespace
    private let output: ArchiveOutput
    /// Node number → the name it was first archived under, for nodes with several links.
    private var firstNames: [UInt64: [UInt8]] = [:]
    private(set) var report = ArchiveReport()

    init(namespace: PointNamespace, output: ArchiveOutput) {
        self.namespace = namespace
        self.output = output
    }

    func add(_ member: ArchiveMember) throws(ArchiveError) {
        let attributes = member.attributes
        let isLinkable = attributes.kind != .directory && attributes.linkCount > 1
        if isLinkable, let first = firstNames[attributes.node] {
            var header = TarHeader(type: .hardLink)
            var pax = PaxRecords()
            describe(member, in: &header, &pax)
            if !header.setLinkName(first) { pax.add("linkpath", first) }
            _ = header.setSize(0)
            try emit(header, pax, member)
            report.hardLinks += 1
            return
        }
        let contents = MemberContents(namespace: namespace, member: member)
        switch attributes.kind {
        case .regular: try addFile(member, contents)
        case .directory:
            var header = TarHeader(type: .directory)
            var pax = PaxRecords()
            describe(member, in: &header, &pax, suffix: [UInt8(ascii: "/")])
            try addExtendedAttributes(member, contents, &pax)
            try emit(header, pax, member)
            report.directories += 1
        case .symlink:
            var header = TarHeader(type: .symlink)
            var pax = PaxRecords()
            describe(member, in: &header, &pax)
            let target = try contents.symlinkTarget()
            if !header.setLinkName(target) { pax.add("linkpath", target) }
            try emit(header, pax, member)
            report.symlinks += 1
        case .fifo, .characterDevice, .blockDevice:
            let type: TarHeader.TypeFlag = attributes.kind == .fifo ? .fifo : attributes.kind == .blockDevice ? .blockDevice : .characterDevice
            var header = TarHeader(type: type)
            var pax = PaxRecords()
            describe(member, in: &header, &pax)
            // Linux's dev_t: minor in bits 0-7 and 20-39, major in bits 8-19 and 40-63.
            let device = attributes.device
            let major = (device >> 8) & 0xFFF | (device >> 32) & ~0xFFF
            let minor = device & 0xFF | (device >> 12) & ~0xFF
            _ = header.setDevice(major: major, minor: minor)
            try addExtendedAttributes(member, contents, &pax)
            try emit(header, pax, member)
            report.specialFiles += 1
        case .socket:
            report.notes.append("\(member.path): left out (a socket is made by the program that listens on it)")
            return
        }
        if isLinkable { firstNames[attributes.node] = member.name }
    }

    func finish() throws(ArchiveError) {
        // The end of an archive: two zero blocks.
        try output.append([UInt8](repeating: 0, count: 2 * TarHeader.blockSize))
        try output.flush()
    }

    /// A regular file: whole, or when it has holes as a GNU sparse 1.0 member, whose ustar
    /// name is a placeholder (GNU.sparse.name carries the real one) and whose data is the map
    /// ("COUNT\n" then "OFFSET\nLENGTH\n" per segment, padded to a block) and the segments.
    private func addFile(_ member: ArchiveMember, _ contents: MemberContents) throws(ArchiveError) {
        let size = member.attributes.size
        let ranges = try contents.dataRanges()
        let dataBytes = ranges.reduce(UInt64(0)) { $0 + ($1.upperBound - $1.lowerBound) }
        var header = TarHeader(type: .regular)
        var pax = PaxRecords()
        let sparse = dataBytes < size
        var map: [UInt8] = []
        if sparse {
            // A file ending in a hole ends with an empty segment at its size, as GNU tar's do.
            var segments = ranges
            if (segments.last?.upperBound ?? 0) < size { segments.append(size ..< size) }
            map = Array((["\(segments.count)"] + segments.flatMap { ["\($0.lowerBound)", "\($0.upperBound - $0.lowerBound)"] })
                .map { $0 + "\n" }.joined().utf8)
            map += [UInt8](repeating: 0, count: (TarHeader.blockSize - map.count % TarHeader.blockSize) % TarHeader.blockSize)
            pax.add("GNU.sparse.major", "1")
            pax.add("GNU.sparse.minor", "0")
            pax.add("GNU.sparse.name", member.name)
            pax.add("GNU.sparse.realsize", "\(size)")
            describe(member, in: &header, &pax, placeholder: Array("GNUSparseFile.0/".utf8) + member.baseName.prefix(80))
        } else {
            describe(member, in: &header, &pax)
        }
        let stored = sparse ? UInt64(map.count) + dataBytes : size
        if !header.setSize(stored) { pax.add("size", "\(stored)") }
        try addExtendedAttributes(member, contents, &pax)
        try emit(header, pax, member)
        if sparse {
            try output.append(map)
            for range in ranges {
                try output.produce(range.upperBound - range.lowerBound) { piece, done throws(ArchiveError) in
                    try contents.read(at: range.lowerBound + done, into: piece)
                }
            }
        } else {
            // No holes (else it would be sparse): every byte is data.
            try output.produce(size) { piece, done throws(ArchiveError) in try contents.read(at: done, into: piece) }
        }
        try output.pad(to: UInt64(TarHeader.blockSize))
        report.files += 1
        report.contentBytes += size
    }

    /// Name, mode, owner and modification time, each in its ustar field or, when the field
    /// cannot hold it (a long name, a large id, nanoseconds), as a pax record.
    private func describe(_ member: ArchiveMember, in header: inout TarHeader, _ pax: inout PaxRecords,
                          suffix: [UInt8] = [], placeholder: [UInt8]? = nil) {
        let attributes = member.attributes
        if let placeholder {
            _ = header.setName(placeholder)
        } else if !header.setName(member.name + suffix) {
            pax.add("path", member.name + suffix)
        }
        header.setMode(attributes.permissions)
        if !header.setUID(attributes.uid) { pax.add("uid", "\(attributes.uid)") }
        if !header.setGID(attributes.gid) { pax.add("gid", "\(attributes.gid)") }
        if !header.setModified(attributes.modified.seconds) || attributes.modified.nanoseconds != 0 {
            pax.add("mtime", PaxRecords.time(attributes.modified))
        }
    }

    /// Extended attributes as SCHILY.xattr.NAME, and the two POSIX ACLs as SCHILY.acl.*
    /// text (GNU tar's --acls); an ACL rpfs cannot read is left out with a note.
    private func addExtendedAttributes(_ member: ArchiveMember, _ contents: MemberContents, _ pax: inout PaxRecords) throws(ArchiveError) {
        for attribute in try contents.extendedAttributes() {
            let aclKey: String? = switch attribute.name {
            case "system.posix_acl_access": "SCHILY.acl.access"
            case "system.posix_acl_default": "SCHILY.acl.default"
            default: nil
            }
            guard let aclKey else {
                pax.add(PaxRecords.xattrKey(attribute.name), attribute.value)
                continue
            }
            do {
                pax.add(aclKey, try POSIXACLText.text(attribute.value))
            } catch {
                report.notes.append("\(member.path): \(attribute.name) left out: \(error)")
            }
        }
    }

    /// The pax extended header when there are records, then the member's header.
    private func emit(_ header: TarHeader, _ pax: PaxRecords, _ member: ArchiveMember) throws(ArchiveError) {
        if !pax.isEmpty {
            var extended = TarHeader(type: .paxExtended)
            _ = extended.setName(Array("PaxHeaders/".utf8) + member.baseName.prefix(80))
            extended.setMode(0o644)
            _ = extended.setSize(UInt64(pax.bytes.count))
            try output.append(extended.sealed())
            try output.append(pax.bytes)
            try output.pad(to: UInt64(TarHeader.blockSize))
        }
        try output.append(header.sealed())
    }
}
