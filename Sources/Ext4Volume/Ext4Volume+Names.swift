import VolumeModel

extension Ext4Volume {
    /// ext names are bytes compared exactly.
    public var caseSensitiveNames: Bool { true }

    /// ext has no named streams: what a file holds besides its data is in its xattrs.
    public func namedStreams(of node: UInt64) throws(VolumeError) -> [NamedStream] { [] }
}
