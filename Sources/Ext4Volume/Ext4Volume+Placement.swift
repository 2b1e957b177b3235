import VolumeModel

extension Ext4Volume {
    /// The file's block map in bytes, or its inline data: from the cached layout, which
    /// reading the file uses too.
    public func placement(of node: UInt64) throws(VolumeError) -> FilePlacement {
        let layout = try layout(of: node)
        switch layout.storage {
        case let .inline(bytes):
            return FilePlacement(size: layout.size, runs: [], inline: Array(bytes.prefix(Int(clamping: layout.size))))
        case let .runs(map):
            return FilePlacement(size: layout.size, runs: FilePlacement.runs(of: map, below: layout.size))
        }
    }
}
