#if canImport(Glibc)
import Glibc
#endif
import PointNamespace
import VolumeModel

/// getxattr and listxattr, with the protocol's size probing. getxattr asks the volume for the one
/// name, so names it answers without listing them work as on ntfs-3g.
extension PointFilesystem {
    func getxattr(_ number: UInt64, name: String, size: Int) -> FuseReply {
        answer(number) { (node, path) throws(NamespaceError) in
            // By name: a volume may answer names it does not list (NTFS's system.ntfs_acl).
            guard case .file = node, let value = try namespace.withVolume(node, path: path, { volume, inner throws(VolumeError) in
                try volume.extendedAttribute(named: name, of: inner)
            }) else { return .error(ENODATA) }
            return Self.xattrReply(value, size: size)
        }
    }

    func listxattr(_ number: UInt64, size: Int) -> FuseReply {
        answer(number) { (node, path) throws(NamespaceError) in
            Self.xattrReply(try extendedAttributes(node, path).flatMap { Array($0.name.utf8) + [UInt8(0)] }, size: size)
        }
    }

    private func extendedAttributes(_ node: PointNamespace.Node, _ path: String) throws(NamespaceError) -> [ExtendedAttribute] {
        guard case .file = node else { return [] }
        return try namespace.withVolume(node, path: path) { volume, inner throws(VolumeError) in try volume.extendedAttributes(of: inner) }
    }

    /// The xattr protocol: size 0 asks for the length; a too-small buffer is ERANGE.
    private static func xattrReply(_ bytes: [UInt8], size: Int) -> FuseReply {
        if size == 0 { return .xattrSize(bytes.count) }
        return size < bytes.count ? .error(ERANGE) : .xattrBytes(bytes)
    }
}
