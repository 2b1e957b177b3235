import BlockDevices
import ByteParsing
import Synchronization
import VolumeModel

extension NTFSVolume {
    /// The MFT record `number`, read through $MFT's runs and checked (signature, fixups,
    /// attributes).
    func record(_ number: UInt64) throws(VolumeError) -> FileRecord {
        guard number < recordCount, number < Self.streamNodeBase else {
            throw .notFound("\(name): MFT record \(number) is past the end of the MFT (\(recordCount) records)")
        }
        // number < recordCount = mft.dataSize / recordSize: the product fits.
        let offset = number * recordSize
        let raw = try readBytes(mft, at: offset, count: Int(recordSize), "MFT record \(number)")
        let location = deviceOffset(mft, offset)
        do {
            return try FileRecord.parse(raw, number: number, origin: location ?? offset, clusterCount: clusterCount)
        } catch {
            throw corrupt("MFT record \(number)", at: location, "\(error)")
        }
    }

    /// A file assembled from its base record and extension records, from the cache or read now.
    func file(_ number: UInt64) throws(VolumeError) -> NTFSFile {
        try files.value(for: number, weight: \.weight) { () throws(VolumeError) in try assemble(number) }
    }

    private func assemble(_ number: UInt64) throws(VolumeError) -> NTFSFile {
        let base = try record(number)
        guard base.isInUse else { throw .notFound("\(name): MFT record \(number) is not in use") }
        guard base.baseReference.raw == 0 else {
            throw .notFound("\(name): MFT record \(number) is an extension of record \(base.baseReference.recordNumber), not a file")
        }
        var attributes = base.attributes
        if let list = base.attributes.first(where: { $0.typeCode == AttributeType.attributeList.rawValue }) {
            attributes = try gatherListed(list, base: base)
        }
        let context = "MFT record \(number)"
        do {
            var standard: StandardInformation?
            var names: [FileNameAttribute] = []
            for attribute in attributes {
                guard case let .resident(value) = attribute.body else { continue }
                if attribute.typeCode == AttributeType.standardInformation.rawValue, standard == nil {
                    standard = try StandardInformation.parse(value, origin: 0)
                } else if attribute.typeCode == AttributeType.fileName.rawValue {
                    names.append(try FileNameAttribute.parse(value, origin: 0))
                }
            }
            // A DOS 8.3 alias is a second name of the same link, not another hard link.
            let linkNames = names.filter { !$0.isDOSOnly }
            let isDirectory = base.flags & FileRecord.isDirectory != 0
            // Streams: group extents by name.
            var streamNames: [[UInt16]] = []
            for attribute in attributes where attribute.typeCode == AttributeType.data.rawValue && !streamNames.contains(attribute.name) {
                streamNames.append(attribute.name)
            }
            var data: DataStream?
            var streams: [(name: [UInt16], stream: DataStream)] = []
            for streamName in streamNames {
                let extents = attributes.filter { $0.typeCode == AttributeType.data.rawValue && $0.name == streamName }
                let label = streamName.isEmpty ? "$DATA" : "$DATA '\(UTF16Text.string(streamName))'"
                let stream = try DataStream.merge(extents, clusterSize: clusterSize, label)
                if streamName.isEmpty { data = stream } else { streams.append((streamName, stream)) }
            }
            var partial = NTFSFile(number: number, kind: isDirectory ? .directory : .regular, isDirectory: isDirectory,
                                   standardInformation: standard, names: linkNames.isEmpty ? names : linkNames,
                                   attributes: attributes, data: data, streams: streams, linkTarget: nil, reparse: nil)
            if let reparse = attributes.first(where: { $0.typeCode == AttributeType.reparsePoint.rawValue }) {
                let value = try readAll(try DataStream.merge([reparse], clusterSize: clusterSize, "$REPARSE_POINT"), "\(context) $REPARSE_POINT", limit: Self.maxLinkTargetSize)
                let point = try ReparsePoint.parse(value, origin: 0)
                if let target = point.target {
                    partial = partial.with(kind: .symlink, target: Self.linkText(target), reparse: point)
                } else if let target = point.wslTarget, !isDirectory {
                    partial = partial.with(kind: .symlink, target: target, reparse: point)
                } else {
                    partial = partial.with(kind: partial.kind, target: nil, reparse: point)
                }
            } else if !isDirectory, let target = try interixTarget(partial) {
                partial = partial.with(kind: .symlink, target: target, reparse: nil)
            }
            return partial
        } catch let error as VolumeError {
            throw error
        } catch {
            throw corrupt(context, "\(error)")
        }
    }

    /// Windows separators become '/'; everything else is kept as stored ("C:/dir" for an
    /// absolute target: there is no mapping of drive letters to Linux paths).
    static func linkText(_ units: [UInt16]) -> [UInt8] {
        UTF16Text.utf8(units.map { $0 == 0x5C ? 0x2F : $0 })
    }

    /// Symbolic links as ntfs-3g (and Interix/SFU) write them by default: a system file whose
    /// data is "IntxLNK\1" followed by the UTF-16 target.
    private func interixTarget(_ file: NTFSFile) throws(VolumeError) -> [UInt8]? {
        let magic: [UInt8] = Array("IntxLNK".utf8) + [1]
        guard file.fileAttributes & FileAttributes.system != 0, !file.isEncrypted, let data = file.data,
              data.dataSize > 8, data.dataSize <= Self.maxLinkTargetSize, data.dataSize % 2 == 0 else { return nil }
        let bytes = try readAll(data, "record \(file.number) $DATA")
        guard bytes.starts(with: magic) else { return nil }
        var units: [UInt16] = []
        var index = 8
        while index + 1 < bytes.count {
            units.append(UInt16(bytes[index]) | UInt16(bytes[index + 1]) << 8)
            index += 2
        }
        guard !units.isEmpty else { return nil }
        return UTF16Text.utf8(units)
    }

    /// Follows $ATTRIBUTE_LIST into the extension records. Each (record, attribute id) may be
    /// named once and a list may not name a list: both would be loops. Attributes of the base
    /// record that the list forgets are kept.
    private func gatherListed(_ list: AttributeRecord, base: FileRecord) throws(VolumeError) -> [AttributeRecord] {
        let context = "MFT record \(base.number) $ATTRIBUTE_LIST"
        let entries: [AttributeListEntry]
        do {
            let stream = try DataStream.merge([list], clusterSize: clusterSize, "$ATTRIBUTE_LIST")
            guard stream.dataSize <= UInt64(AttributeListEntry.maxListSize) else {
                throw corrupt(context, "\(stream.dataSize) bytes is over the \(AttributeListEntry.maxListSize)-byte limit")
            }
            entries = try AttributeListEntry.parse(try readAll(stream, context), origin: 0)
        } catch let error as VolumeError {
            throw error
        } catch {
            throw corrupt(context, "\(error)")
        }
        guard entries.count <= Self.maxAttributeListEntries else {
            throw corrupt(context, "\(entries.count) entries is over the limit of \(Self.maxAttributeListEntries)")
        }
        struct Key: Hashable { let record: UInt64; let id: UInt16 }
        var records: [UInt64: FileRecord] = [base.number: base]
        var seen = Set<Key>()
        var gathered: [AttributeRecord] = []
        for entry in entries {
            let recordNumber = entry.record.recordNumber
            guard entry.typeCode != AttributeType.attributeList.rawValue else {
                throw corrupt(context, "lists an $ATTRIBUTE_LIST in record \(recordNumber) (a loop)")
            }
            guard seen.insert(Key(record: recordNumber, id: entry.attributeID)).inserted else {
                throw corrupt(context, "attribute \(entry.attributeID) of record \(recordNumber) is listed twice (a loop)")
            }
            let record: FileRecord
            if let known = records[recordNumber] {
                record = known
            } else {
                guard records.count <= Self.maxExtensionRecords else {
                    throw corrupt(context, "more than \(Self.maxExtensionRecords) extension records")
                }
                record = try self.record(recordNumber)
                guard record.isInUse, record.baseReference.recordNumber == base.number else {
                    throw corrupt(context, "extension record \(recordNumber) belongs to record \(record.baseReference.recordNumber)\(record.isInUse ? "" : " and is not in use")")
                }
                records[recordNumber] = record
            }
            guard let attribute = record.attributes.first(where: { $0.id == entry.attributeID && $0.typeCode == entry.typeCode }) else {
                throw corrupt(context, "attribute 0x\(String(entry.typeCode, radix: 16)) id \(entry.attributeID) is not in record \(recordNumber)")
            }
            gathered.append(attribute)
        }
        for attribute in base.attributes where !seen.contains(Key(record: base.number, id: attribute.id)) {
            gathered.append(attribute)
        }
        return gathered
    }

    /// The merged stream of `type` named `name`, or nil when the file has none.
    func stream(_ file: NTFSFile, _ type: AttributeType, named streamName: [UInt16]) throws(VolumeError) -> DataStream? {
        let extents = file.attributes(type, named: streamName)
        guard !extents.isEmpty else { return nil }
        do {
            return try DataStream.merge(extents, clusterSize: clusterSize, "attribute 0x\(String(type.rawValue, radix: 16))")
        } catch {
            throw corrupt("MFT record \(file.number)", "\(error)")
        }
    }
}

extension NTFSFile {
    func with(kind: NodeKind, target: [UInt8]?, reparse: ReparsePoint?) -> NTFSFile {
        NTFSFile(number: number, kind: kind, isDirectory: isDirectory, standardInformation: standardInformation, names: names,
                 attributes: attributes, data: data, streams: streams, linkTarget: target, reparse: reparse)
    }
}
