import VolumeModel

extension PointNamespace {
    /// The Windows security descriptor of a file or directory on an NTFS volume; nil on other
    /// volumes, for nodes that are not a volume's, and for files without one.
    public func securityDescriptor(_ node: Node, path: String) throws(NamespaceError) -> SecurityDescriptor? {
        guard case .file = node else { return nil }
        let bytes = try withVolume(node, path: path) { volume, inner throws(VolumeError) in
            try volume.extendedAttribute(named: SecurityDescriptor.extendedAttributeName, of: inner)
        }
        // The volume has checked the bytes it answers with: they parse.
        return bytes.flatMap { try? SecurityDescriptor.parse($0) }
    }
}
