import VolumeModel

extension XFSVolume {
    /// A regular file's written extents in bytes, below its size (unwritten extents and holes
    /// read as zeros and are not placed).
    public func placement(of node: UInt64) throws(VolumeError) -> FilePlacement {
        let (file, map) = try regularFile(node)
        return FilePlacement(size: file.inode.size, runs: FilePlacement.runs(of: map, below: file.inode.size))
    }
}
