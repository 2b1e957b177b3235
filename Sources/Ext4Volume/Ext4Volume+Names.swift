extension Ext4Volume {
    /// ext names are bytes compared exactly.
    public var caseSensitiveNames: Bool { true }
}
