import ByteParsing
import VolumeModel

/// One index of a file, ready to walk: its $INDEX_ROOT entries and the $INDEX_ALLOCATION its
/// subnodes live in ($I30 of a directory; $SII of $Secure).
struct IndexTree<Key: Sendable> {
    let root: IndexNode.Root<Key>
    let allocation: DataStream?
    /// Subnode VCNs count clusters, or 512-byte blocks when index records are smaller than a
    /// cluster.
    let vcnSize: UInt64
    let context: String
    let parseKey: IndexKeyParser<Key>
}

extension NTFSVolume {
    /// The index `indexName` of `file` over attribute type `indexedType`.
    func indexTree<Key>(_ file: NTFSFile, named indexName: [UInt16], indexedType: UInt32, _ context: String,
                        key parseKey: @escaping IndexKeyParser<Key>) throws(VolumeError) -> IndexTree<Key> {
        guard let rootAttribute = file.attributes(.indexRoot, named: indexName).first,
              case let .resident(rootValue) = rootAttribute.body else {
            throw corrupt(context, "no resident $INDEX_ROOT")
        }
        let root: IndexNode.Root<Key>
        do {
            root = try IndexNode.root(rootValue, origin: 0, indexedType: indexedType, key: parseKey)
        } catch {
            throw corrupt("\(context) $INDEX_ROOT", "\(error)")
        }
        let allocation = try stream(file, .indexAllocation, named: indexName)
        return IndexTree(root: root, allocation: allocation, vcnSize: root.recordSize >= clusterSize ? clusterSize : 512,
                         context: context, parseKey: parseKey)
    }

    /// The entries of the INDX record at `vcn` (signature, fixups and own VCN checked).
    func indexRecord<Key>(_ tree: IndexTree<Key>, _ vcn: VCN) throws(VolumeError) -> [IndexEntry<Key>] {
        guard let allocation = tree.allocation else { throw corrupt(tree.context, "entries point to \(vcn) but there is no $INDEX_ALLOCATION") }
        let recordSize = tree.root.recordSize
        let (offset, overflow) = vcn.value.multipliedReportingOverflow(by: tree.vcnSize)
        guard !overflow, offset < allocation.dataSize, recordSize <= allocation.dataSize - offset else {
            throw corrupt(tree.context, "index record at \(vcn) lies past the \(allocation.dataSize)-byte $INDEX_ALLOCATION")
        }
        let raw = try readBytes(allocation, at: offset, count: Int(recordSize), "\(tree.context) $INDEX_ALLOCATION")
        let location = deviceOffset(allocation, offset)
        do {
            return try IndexNode.record(raw, vcn: vcn, origin: location ?? offset, key: tree.parseKey)
        } catch {
            throw corrupt("\(tree.context) index record at \(vcn)", at: location, "\(error)")
        }
    }
}
