import PointNamespace
import VolumeModel

/// What a member holds besides its header, read from the point: a regular file's bytes
/// (holes as zeros, without reading them), a symlink's target, extended attributes.
struct MemberContents {
    let namespace: PointNamespace
    let member: ArchiveMember

    /// The byte ranges of the file that hold data, clipped to its size, in order.
    func dataRanges() throws(ArchiveError) -> [Range<UInt64>] {
        let size = member.attributes.size
        let raw = try volume { volume, inner throws(VolumeError) in try volume.dataRanges(of: inner) }
        var ranges = DataRanges(limit: size)
        var end: UInt64 = 0
        // A reader's ranges are sorted and apart; anything else is skipped rather than trusted.
        for range in raw where range.lowerBound >= end {
            ranges.add(range)
            end = range.upperBound
        }
        return ranges.ranges
    }

    /// Fills `piece` with the file's bytes from `offset`. A file that ends before its size is
    /// corruption: no member is ever shorter than its header says.
    func read(at offset: UInt64, into piece: UnsafeMutableRawBufferPointer) throws(ArchiveError) {
        let got = try volume { volume, inner throws(VolumeError) in try volume.read(inner, at: offset, into: piece) }
        guard got == piece.count else {
            throw .source(.volume(path: member.path, .corrupt(volume: member.path, structure: "file data", at: nil,
                                                             problem: "ended at byte \(offset + UInt64(got)) of \(member.attributes.size)")))
        }
    }

    func symlinkTarget() throws(ArchiveError) -> [UInt8] {
        try volume { volume, inner throws(VolumeError) in try volume.symlinkTarget(of: inner) }
    }

    func extendedAttributes() throws(ArchiveError) -> [ExtendedAttribute] {
        try volume { volume, inner throws(VolumeError) in try volume.extendedAttributes(of: inner) }
    }

    private func volume<T>(_ body: (any Volume, UInt64) throws(VolumeError) -> T) throws(ArchiveError) -> T {
        try source { () throws(NamespaceError) in try namespace.withVolume(member.node, path: member.path, body) }
    }
}
