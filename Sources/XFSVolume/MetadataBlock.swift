import ByteParsing

/// The self-describing header of a metadata block. On v5 filesystems every block carries a
/// magic number, a CRC-32C of the whole block, its own disk address (512-byte units), the
/// filesystem's UUID and the inode that owns it; all are checked before a field is trusted.
/// On v4 only the magic exists.
struct MetadataBlock: Sendable {
    let name: String
    let v5Magic: UInt32
    let v4Magic: UInt32
    let magicOffset: Int
    /// 2 or 4 bytes.
    let magicWidth: Int
    let crcOffset: Int
    let blockNumberOffset: Int
    let uuidOffset: Int
    let ownerOffset: Int
    /// Header bytes before the block's contents, v5 and v4.
    let v5HeaderSize: Int
    let v4HeaderSize: Int

    /// A data fork B-tree block (struct xfs_btree_block, long form).
    static let bmbt = MetadataBlock(name: "block map B-tree block", v5Magic: 0x424D_4133, v4Magic: 0x424D_4150, magicOffset: 0, magicWidth: 4,
                                    crcOffset: 64, blockNumberOffset: 24, uuidOffset: 40, ownerOffset: 56, v5HeaderSize: 72, v4HeaderSize: 24)
    /// A single-block directory (struct xfs_dir3_blk_hdr then bestfree).
    static let directoryBlock = MetadataBlock(name: "directory block", v5Magic: 0x5844_4233, v4Magic: 0x5844_3242, magicOffset: 0, magicWidth: 4,
                                              crcOffset: 4, blockNumberOffset: 8, uuidOffset: 24, ownerOffset: 40, v5HeaderSize: 64, v4HeaderSize: 16)
    /// A directory data block of a leaf, node or B-tree directory.
    static let directoryData = MetadataBlock(name: "directory data block", v5Magic: 0x5844_4433, v4Magic: 0x5844_3244, magicOffset: 0, magicWidth: 4,
                                             crcOffset: 4, blockNumberOffset: 8, uuidOffset: 24, ownerOffset: 40, v5HeaderSize: 64, v4HeaderSize: 16)
    /// A dabtree interior node (struct xfs_da3_intnode) of a directory or attribute fork.
    static let daNode = MetadataBlock(name: "dabtree node", v5Magic: 0x3EBE, v4Magic: 0xFEBE, magicOffset: 8, magicWidth: 2,
                                      crcOffset: 12, blockNumberOffset: 16, uuidOffset: 32, ownerOffset: 48, v5HeaderSize: 64, v4HeaderSize: 16)
    /// An attribute leaf (struct xfs_attr3_leaf_hdr).
    static let attributeLeaf = MetadataBlock(name: "attribute leaf", v5Magic: 0x3BEE, v4Magic: 0xFBEE, magicOffset: 8, magicWidth: 2,
                                             crcOffset: 12, blockNumberOffset: 16, uuidOffset: 32, ownerOffset: 48, v5HeaderSize: 80, v4HeaderSize: 32)
    /// A block of a symbolic link's target (struct xfs_dsymlink_hdr).
    static let symlink = MetadataBlock(name: "symbolic link block", v5Magic: 0x5853_4C4D, v4Magic: 0, magicOffset: 0, magicWidth: 4,
                                       crcOffset: 12, blockNumberOffset: 40, uuidOffset: 16, ownerOffset: 32, v5HeaderSize: 56, v4HeaderSize: 0)
    /// A block of an attribute value stored outside the leaf (struct xfs_attr3_rmt_hdr).
    static let remoteValue = MetadataBlock(name: "remote attribute value block", v5Magic: 0x5841_524D, v4Magic: 0, magicOffset: 0, magicWidth: 4,
                                           crcOffset: 12, blockNumberOffset: 40, uuidOffset: 16, ownerOffset: 32, v5HeaderSize: 56, v4HeaderSize: 0)

    func headerSize(_ sb: Superblock) -> Int { sb.isV5 ? v5HeaderSize : v4HeaderSize }

    /// The magic number stored in `bytes`.
    func storedMagic(_ reader: ByteReader) throws(ByteParsingError) -> UInt32 {
        magicWidth == 2 ? UInt32(try reader.bigEndian(at: magicOffset, "magic") as UInt16) : try reader.bigEndian(at: magicOffset, "magic")
    }

    /// Whether `bytes` start like this kind of block (the magic only).
    func hasMagic(_ bytes: [UInt8], _ sb: Superblock) -> Bool {
        (try? storedMagic(ByteReader(bytes))) == (sb.isV5 ? v5Magic : v4Magic)
    }

    /// Checks the header of `bytes`, read from volume block `volumeBlock` for inode `owner`.
    /// v4 blocks without a magic (symlink and remote value blocks) pass unchecked.
    func check(_ bytes: [UInt8], volumeBlock: UInt64, owner: UInt64, origin: UInt64, _ sb: Superblock) throws(ByteParsingError) {
        let reader = ByteReader(bytes, origin: origin)
        func invalid(_ what: String, _ at: Int, _ reason: String) -> ByteParsingError {
            .invalid(what: "\(name) \(what)", at: origin + UInt64(at), reason: reason)
        }
        let expected = sb.isV5 ? v5Magic : v4Magic
        guard sb.isV5 || v4Magic != 0 else { return }
        let magic = try storedMagic(reader)
        guard magic == expected else {
            throw invalid("magic", magicOffset, "0x\(String(magic, radix: 16)), expected 0x\(String(expected, radix: 16))")
        }
        guard sb.isV5 else { return }
        guard CRC32C.matches(bytes, field: crcOffset) else { throw invalid("CRC", crcOffset, "the block's checksum does not match") }
        let address = volumeBlock * UInt64(sb.blockSize / 512)
        let stored: UInt64 = try reader.bigEndian(at: blockNumberOffset, "block number")
        guard stored == address else { throw invalid("block number", blockNumberOffset, "\(stored), expected \(address)") }
        guard try reader.bytes(at: uuidOffset, count: 16, "UUID") == sb.metadataUUID else { throw invalid("UUID", uuidOffset, "not this filesystem's") }
        let storedOwner: UInt64 = try reader.bigEndian(at: ownerOffset, "owner")
        guard storedOwner == owner else { throw invalid("owner", ownerOffset, "inode \(storedOwner), expected inode \(owner)") }
    }
}
