import VolumeModel

/// An inode as the volume serves it: the parsed core and, for forks stored as extents or a
/// B-tree, the data fork's map.
struct XFSFile: Sendable {
    let inode: Inode
    let kind: NodeKind
    let map: RunMap?

    /// What the file costs in the cache.
    var weight: Int { 1 + (map?.runs.count ?? 0) + inode.dataFork.count / 64 }
}
