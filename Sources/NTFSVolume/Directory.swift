import BlockDevices
import ByteParsing
import Synchronization
import VolumeModel

/// A directory's visible entries in index order, with indexes by stored name and by name
/// folded through $UpCase.
struct DirectoryListing: Sendable {
    let entries: [DirectoryEntry]
    let byName: [FileName: Int]
    let byFoldedName: [[UInt16]: Int]
}

extension NTFSVolume {
    /// B-tree depth beyond which an index is taken to loop (real ones are a few levels).
    static let maxIndexDepth = 32

    func listing(of node: UInt64) throws(VolumeError) -> DirectoryListing {
        try listings.value(for: node, weight: { $0.entries.count + 1 }) { () throws(VolumeError) in try buildListing(node) }
    }

    private func buildListing(_ node: UInt64) throws(VolumeError) -> DirectoryListing {
        guard node < Self.streamNodeBase else { throw .notADirectory("\(name): stream node \(node) is a regular file") }
        let file = try file(node)
        guard file.kind == .directory else { throw .notADirectory("\(name): record \(node) is a \(file.kind.rawValue)") }
        let raw = try indexEntries(file)
        // A DOS alias is skipped when its file also has a Win32 or POSIX name here.
        var longNamed = Set<UInt64>()
        for (reference, key) in raw where !key.isDOSOnly { longNamed.insert(reference.recordNumber) }
        var entries: [DirectoryEntry] = []
        var byName: [FileName: Int] = [:]
        var byFolded: [[UInt16]: Int] = [:]
        for (reference, key) in raw {
            let record = reference.recordNumber
            // Record numbers from 2^40 on would read as stream nodes: no real MFT gets there.
            if record < Self.firstUserRecord || record >= Self.streamNodeBase { continue }
            if key.isDOSOnly, longNamed.contains(record) { continue }
            if node == Self.rootRecord, key.name.first == 0x24 { continue } // '$' metafiles in the root
            // A name Linux cannot carry (over 255 UTF-8 bytes, or with '/' or NUL in it) is
            // left out of the listing; docs/NTFS.md lists this.
            guard let fileName = try? FileName(validating: UTF16Text.utf8(key.name)) else { continue }
            let kind = try entryKind(record, key)
            if byName[fileName] == nil { byName[fileName] = entries.count }
            let folded = upCase.fold(key.name)
            if byFolded[folded] == nil { byFolded[folded] = entries.count }
            entries.append(DirectoryEntry(name: fileName, node: record, kind: kind))
        }
        return DirectoryListing(entries: entries, byName: byName, byFoldedName: byFolded)
    }

    /// The kind from the index key where it is certain; reparse points and system files
    /// (possible Interix symlinks) are looked up in their records.
    private func entryKind(_ record: UInt64, _ key: FileNameAttribute) throws(VolumeError) -> NodeKind {
        let attributes = key.fileAttributes
        if attributes & (FileAttributes.reparsePoint | FileAttributes.system) == 0 {
            return attributes & FileAttributes.directoryIndex != 0 ? .directory : .regular
        }
        return try file(record).kind
    }

    /// Every (file, name) pair of the directory's $I30 index, in B-tree order: the entries
    /// of $INDEX_ROOT with the INDX records of $INDEX_ALLOCATION below them. Each node is
    /// visited once and the depth is capped, so a looping tree fails instead of hanging.
    private func indexEntries(_ directory: NTFSFile) throws(VolumeError) -> [(FileReference, FileNameAttribute)] {
        let context = "directory record \(directory.number) $I30"
        let tree = try indexTree(directory, named: AttributeRecord.i30, indexedType: AttributeType.fileName.rawValue, context,
                                 key: IndexNode.fileNameKey)
        var visited = Set<UInt64>()
        var result: [(FileReference, FileNameAttribute)] = []

        func walk(_ entries: [IndexEntry<FileNameAttribute>], depth: Int) throws(VolumeError) {
            for entry in entries {
                if let subnode = entry.subnode {
                    guard depth < Self.maxIndexDepth else { throw corrupt(context, "index deeper than \(Self.maxIndexDepth) levels (a loop?)") }
                    guard visited.insert(subnode.value).inserted else {
                        throw corrupt(context, "index record at \(subnode) is referenced twice (a loop)")
                    }
                    try walk(try indexRecord(tree, subnode), depth: depth + 1)
                }
                if let key = entry.key { result.append((entry.file, key)) }
            }
        }

        try walk(tree.root.entries, depth: 0)
        return result
    }
}
