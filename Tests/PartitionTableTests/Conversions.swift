import PartitionTable

extension Partition {
    /// This partition in the terms of `ReferencePartition`, to compare with util-linux.
    func reference(sectorSize: UInt64) -> ReferencePartition {
        let typeText: String
        switch type {
        case let .mbr(byte): typeText = String(byte, radix: 16)
        case let .gpt(guid): typeText = guid
        }
        let attributeText = attributes.flatMap { $0.description.isEmpty ? nil : $0.description }
        return ReferencePartition(
            number: number, startSector: start / sectorSize, sectors: size / sectorSize, type: typeText,
            uuid: uniqueGUID, name: name, attributes: attributeText, bootable: attributes == nil && bootable)
    }
}

extension PartitionedDisk {
    var references: [ReferencePartition] { partitions.map { $0.reference(sectorSize: UInt64(sectorSize)) } }
}
