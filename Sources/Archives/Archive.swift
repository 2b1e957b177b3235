import PointNamespace
import VolumeModel

public enum ArchiveFormat: String, Sendable, CaseIterable {
    case zip, tar

    public var fileExtension: String { rawValue }
    public var mediaType: String {
        switch self {
        case .zip: "application/zip"
        case .tar: "application/x-tar"
        }
    }
}

/// What an archive holds.
public struct ArchiveReport: Sendable {
    public var files = 0
    public var directories = 0
    public var symlinks = 0
    public var hardLinks = 0
    public var specialFiles = 0
    /// Bytes of file contents, holes included.
    public var contentBytes: UInt64 = 0
    /// Bytes of archive written.
    public var archiveBytes: UInt64 = 0
    /// What the format could not hold exactly, one sentence each (a FIFO in a zip, a renamed
    /// member); the rest is whole.
    public var notes: [String] = []
}

/// A folder or file of a point streamed as a zip or tar archive while it is read: no
/// temporary file, memory bounded by the walk and (for zip) the central directory.
public enum Archive {
    /// Writes the tree at `path` (an absolute path in the point), its members named from the
    /// path's last component; the point's root ("/") has no name, so its disks are the top members.
    public static func write(_ format: ArchiveFormat, from path: String, of namespace: PointNamespace,
                             to sink: any ArchiveSink) throws(ArchiveError) -> ArchiveReport {
        let node = try source { () throws(NamespaceError) in try namespace.resolve(path) }
        let attributes = try source { () throws(NamespaceError) in try namespace.attributes(node, path: path) }
        let name = path.split(separator: "/").last.map { Array($0.utf8) }
        return try write(format, from: node, attributes, name: name, path: path, of: namespace, to: sink)
    }

    /// Writes the tree at `node`, found by the caller at `path`, as members below `name`
    /// (validated bytes, or nil for the point's root).
    public static func write(_ format: ArchiveFormat, from node: PointNamespace.Node, _ attributes: NodeAttributes, name: [UInt8]?,
                             path: String, of namespace: PointNamespace, to sink: any ArchiveSink) throws(ArchiveError) -> ArchiveReport {
        let output = ArchiveOutput(sink: sink)
        let writer: any ArchiveFormatWriter = switch format {
        case .zip: ZipWriter(namespace: namespace, output: output)
        case .tar: TarWriter(namespace: namespace, output: output)
        }
        try ArchiveWalk(namespace: namespace).walk(from: node, attributes, name: name, path: path) { member throws(ArchiveError) in
            try writer.add(member)
        }
        try writer.finish()
        var report = writer.report
        report.archiveBytes = output.position
        return report
    }
}
