import ByteParsing
import VolumeModel

/// Windows security and DOS attributes as extended attributes: `user.ntfs.security_descriptor`
/// (listed, so cp and restore keep it) and, by name only as ntfs-3g answers them,
/// `system.ntfs_acl`, `system.ntfs_attrib` and `system.ntfs_attrib_be`.
extension NTFSVolume {
    static let securityDescriptorXattr = "user.ntfs.security_descriptor"
    static let aclXattr = SecurityDescriptor.extendedAttributeName
    static let attribXattr = "system.ntfs_attrib"
    static let attribBigEndianXattr = "system.ntfs_attrib_be"

    /// The file's self-relative security descriptor, checked; nil when it has none. Where
    /// ntfs-3g looks: $Secure by the security id of $STANDARD_INFORMATION when it is not 0,
    /// else the file's own $SECURITY_DESCRIPTOR (NTFS 1.x). A descriptor that fails the
    /// checks fails the file's extended attributes, not the volume.
    func securityDescriptor(of file: NTFSFile) throws(VolumeError) -> SecurityDescriptor? {
        let bytes: [UInt8]
        let structure: String
        if let id = file.standardInformation?.securityID, id != 0 {
            bytes = try secureDescriptor(id: id)
            structure = "$Secure descriptor \(id) of MFT record \(file.number)"
        } else if let own = try stream(file, .securityDescriptor, named: []) {
            structure = "MFT record \(file.number) $SECURITY_DESCRIPTOR"
            guard own.dataSize <= UInt64(SecurityDescriptor.maxSize) else {
                throw corrupt(structure, "\(own.dataSize) bytes is over the \(SecurityDescriptor.maxSize)-byte limit")
            }
            bytes = try readAll(own, structure, limit: UInt64(SecurityDescriptor.maxSize))
        } else {
            return nil
        }
        do {
            return try SecurityDescriptor.parse(bytes)
        } catch {
            throw corrupt(structure, "\(error)")
        }
    }

    /// FILE_ATTRIBUTE_* as ntfs-3g reports them: the directory bit (0x10) from the record,
    /// NORMAL (0x80) when no bit is set.
    static func dosAttributes(_ file: NTFSFile) -> UInt32 {
        var attributes = file.fileAttributes
        if file.isDirectory { attributes |= FileAttributes.directory } else { attributes &= ~FileAttributes.directory }
        return attributes == 0 ? FileAttributes.normal : attributes
    }

    public func extendedAttribute(named attributeName: String, of node: UInt64) throws(VolumeError) -> [UInt8]? {
        guard node < Self.streamNodeBase else { return nil }
        switch attributeName {
        case Self.aclXattr:
            return try securityDescriptor(of: try file(node))?.bytes
        case Self.attribXattr:
            return Self.littleEndian(Self.dosAttributes(try file(node)))
        case Self.attribBigEndianXattr:
            return Self.littleEndian(Self.dosAttributes(try file(node))).reversed()
        default:
            return try extendedAttributes(of: node).first { $0.name == attributeName }?.value
        }
    }
}
