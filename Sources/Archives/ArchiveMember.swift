import PointNamespace
import VolumeModel

/// One node of the tree being archived, as the walk meets it.
struct ArchiveMember {
    /// The member's path in the archive: validated names (no '/', '.', '..' or NUL) joined by
    /// '/', never starting with one: nothing in an archive rpfs writes can point outside the
    /// folder it is extracted into.
    let name: [UInt8]
    /// The last component of `name`.
    let baseName: [UInt8]
    let node: PointNamespace.Node
    let attributes: NodeAttributes
    /// The node's path in the point, for errors.
    let path: String
}

/// What each format does with the members the walk hands it, in order: a directory before
/// everything below it.
protocol ArchiveFormatWriter: AnyObject {
    func add(_ member: ArchiveMember) throws(ArchiveError)
    /// Writes the end records (zip's central directory, tar's two zero blocks) and flushes.
    func finish() throws(ArchiveError)
    var report: ArchiveReport { get }
}
