import VolumeModel

extension Ext4Volume {
    /// ext names are bytes compared exactly.
    public var caseSensitiveNames: Bool { true }

    /// ext has no named streams: what a file holds besides its data is in its xattrs.
    public func namedStreams(of node: UInt64) throws(VolumeError) -> [NamedStream] { [] }

    public func streamNode(of node: UInt64, named: String) throws(VolumeError) -> UInt64 {
        throw .notFound("\(name): stream '\(named)': ext2/3/4 files have no named streams")
    }
}
