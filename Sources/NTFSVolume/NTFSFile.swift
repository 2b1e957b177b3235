import VolumeModel

/// A file as the volume shows it: every attribute of its base record and extension records,
/// with what the frontends ask for decided once.
struct NTFSFile: Sendable {
    let number: UInt64
    let kind: NodeKind
    let isDirectory: Bool
    let standardInformation: StandardInformation?
    /// Names other than the DOS 8.3 aliases of Win32 names.
    let names: [FileNameAttribute]
    let attributes: [AttributeRecord]
    /// The unnamed $DATA stream (nil for directories and files without one).
    let data: DataStream?
    /// Named $DATA streams (alternate data streams) by name.
    let streams: [(name: [UInt16], stream: DataStream)]
    /// Symlinks: the target as Linux shows it.
    let linkTarget: [UInt8]?
    /// The $REPARSE_POINT, when the file has one.
    let reparse: ReparsePoint?

    var fileAttributes: UInt32 { standardInformation?.fileAttributes ?? names.first?.fileAttributes ?? 0 }
    var isEncrypted: Bool { fileAttributes & FileAttributes.encrypted != 0 || data?.isEncrypted == true }

    /// What the file costs a cache: runs and attributes.
    var weight: Int {
        var runs = 0
        for (_, stream) in streams { if case let .runs(map) = stream.storage { runs += map.runs.count } }
        if let data, case let .runs(map) = data.storage { runs += map.runs.count }
        return attributes.count + runs + 1
    }

    /// The named streams a user sees: a WOF file's WofCompressedData is its data, compressed,
    /// and Windows hides it as WOF does (a "FILE:WofCompressedData" lookup still reads it).
    var userStreams: [(name: [UInt16], stream: DataStream)] {
        guard reparse?.tag == ReparsePoint.wof else { return streams }
        return streams.filter { $0.name != WofFile.streamName }
    }

    /// The WofCompressedData stream, when the file has one.
    var wofStream: DataStream? { streams.first { $0.name == WofFile.streamName }?.stream }

    func attributes(_ type: AttributeType, named name: [UInt16] = []) -> [AttributeRecord] {
        attributes.filter { $0.typeCode == type.rawValue && $0.name == name }
    }
}
