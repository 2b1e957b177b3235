extension NTFSVolume {
    /// Windows compares names through the volume's $UpCase table (as `lookup` does).
    public var caseSensitiveNames: Bool { false }
}
