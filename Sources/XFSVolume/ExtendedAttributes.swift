import ByteParsing
import VolumeModel

extension XFSVolume {
    /// Linux's XATTR_SIZE_MAX: no attribute value is larger.
    static let maxAttributeValue: UInt32 = 65536
    /// The deepest dabtree XFS builds (XFS_DA_NODE_MAXDEPTH).
    static let maxDabtreeDepth = 5
    /// The most attribute value bytes one file shows; beyond, the file's attributes are refused.
    static let maxAttributeBytes = 64 << 20

    /// Attributes with their Linux names as the kernel lists them: user., trusted. and
    /// security. as stored, and the trusted SGI_ACL_* pair also as system.posix_acl_* in the
    /// kernel's ACL format. Parent pointers and
    /// entries an interrupted update left incomplete are not shown (the kernel hides both).
    public func extendedAttributes(of node: UInt64) throws(VolumeError) -> [ExtendedAttribute] {
        let inode = try file(node).inode
        guard let fork = inode.attributeFork, let format = inode.attributeFormat else { return [] }
        let label = "attribute fork of inode \(node)"
        let raw: [RawAttribute]
        var map: RunMap?
        switch format {
        case .local:
            raw = try parsing(label, at: inode.attributeForkOrigin) { () throws(ByteParsingError) in
                try AttributeShortForm.attributes(fork, origin: inode.attributeForkOrigin)
            }
        case .extents where inode.attributeExtentCount == 0:
            // A fork whose attributes were all removed, or never set.
            raw = []
        case .extents, .btree:
            let blocks = try blockMap(ForkBytes(bytes: fork, origin: inode.attributeForkOrigin, format: format,
                                                extentCount: inode.attributeExtentCount, label: label), owner: node)
            map = blocks
            raw = try attributeLeaves(blocks, owner: node, label: label)
        case .device:
            throw corrupt(label, at: inode.attributeForkOrigin, "an attribute fork in device format")
        }
        var attributes: [ExtendedAttribute] = []
        var total = 0
        for attribute in raw where attribute.flags & (RawAttribute.Flag.incomplete | RawAttribute.Flag.parent) == 0 {
            let shown = String(decoding: attribute.name, as: UTF8.self)
            guard !attribute.name.isEmpty else { throw corrupt(label, "an attribute with an empty name") }
            let value: [UInt8]
            switch attribute.value {
            case let .inline(bytes):
                value = bytes
            case let .remote(block, length):
                guard let map, length <= Self.maxAttributeValue else {
                    throw corrupt(label, "attribute '\(shown)' claims a remote value of \(length) bytes")
                }
                total += Int(length)
                guard total <= Self.maxAttributeBytes else {
                    throw .unsupported("\(name): inode \(node) has more than \(Self.maxAttributeBytes) bytes of extended attributes")
                }
                value = try remoteValue(map, first: UInt64(block), size: Int(length), owner: node,
                                        label: "\(label), value of '\(shown)'")
            }
            let name: String
            switch attribute.flags & (RawAttribute.Flag.root | RawAttribute.Flag.secure) {
            case 0:
                name = "user." + shown
            case RawAttribute.Flag.root:
                // The kernel lists an ACL under both names: as stored, and converted.
                if let system = XFSACL.systemName(attribute.name) {
                    let converted = try parsing("\(label), ACL '\(shown)'", at: nil) { () throws(ByteParsingError) in try XFSACL.xattrValue(value) }
                    attributes.append(ExtendedAttribute(name: system, value: converted))
                }
                name = "trusted." + shown
            case RawAttribute.Flag.secure:
                name = "security." + shown
            default:
                throw corrupt(label, "attribute '\(shown)' is in both the trusted and the security namespace")
            }
            attributes.append(ExtendedAttribute(name: name, value: value))
        }
        return attributes.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    /// The entries of every leaf of an attribute fork stored in blocks: block 0 is a leaf, or
    /// the root of a dabtree whose nodes lead to the leaves. Each block is read once.
    private func attributeLeaves(_ map: RunMap, owner: UInt64, label: String) throws(VolumeError) -> [RawAttribute] {
        let blockSize = Int(superblock.blockSize)
        let countOffset = superblock.isV5 ? 56 : 12
        var pending: [(block: UInt64, depth: Int)] = [(0, 0)]
        var visited = Set<UInt64>()
        var attributes: [RawAttribute] = []
        while let (block, depth) = pending.popLast() {
            guard visited.insert(block).inserted, depth <= Self.maxDabtreeDepth, UInt64(visited.count) <= superblock.dataBlocks else {
                throw corrupt(label, "its dabtree reaches block \(block) twice, deeper than \(Self.maxDabtreeDepth) levels or past the filesystem's size")
            }
            guard let origin = map.deviceOffset(of: block * UInt64(blockSize)) else {
                throw corrupt(label, "its dabtree names block \(block), which the fork does not store")
            }
            let bytes = try readBytes(at: origin, count: blockSize, purpose: label)
            let volumeBlock = origin / UInt64(blockSize)
            if MetadataBlock.daNode.hasMagic(bytes, superblock) {
                let children = try parsing("\(MetadataBlock.daNode.name) \(block) of \(label)", at: origin) { () throws(ByteParsingError) -> [UInt32] in
                    let layout = MetadataBlock.daNode
                    try layout.check(bytes, volumeBlock: volumeBlock, owner: owner, origin: origin, superblock)
                    let reader = ByteReader(bytes, origin: origin)
                    let header = layout.headerSize(superblock)
                    let count = Int(try reader.bigEndian(at: countOffset, "entry count") as UInt16)
                    guard count >= 1, count <= (blockSize - header) / 8 else {
                        throw .invalid(what: "entry count", at: origin + UInt64(countOffset), reason: "\(count) entries")
                    }
                    var children: [UInt32] = []
                    for index in 0 ..< count { children.append(try reader.bigEndian(at: header + index * 8 + 4, "child block")) }
                    return children
                }
                pending += children.reversed().map { (UInt64($0), depth + 1) }
            } else {
                attributes += try parsing("\(MetadataBlock.attributeLeaf.name) \(block) of \(label)", at: origin) { () throws(ByteParsingError) in
                    let layout = MetadataBlock.attributeLeaf
                    try layout.check(bytes, volumeBlock: volumeBlock, owner: owner, origin: origin, superblock)
                    return try AttributeLeaf.attributes(bytes, origin: origin, headerSize: layout.headerSize(superblock), countOffset: countOffset)
                }
            }
        }
        return attributes
    }
}
