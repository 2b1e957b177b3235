#if canImport(Glibc)
import Glibc
#endif
import CFuse3
import PointNamespace
import Synchronization
import VolumeModel

/// Open directory listings and the pages readdir and readdirplus send from them.
extension PointFilesystem {
    func opendir(_ number: UInt64) -> FuseReply {
        answer(number) { (node, path) throws(NamespaceError) in
            let entries = try namespace.list(node, path: path)
            for entry in entries {
                remember(entry.node.number, PointNamespace.join(path, entry.name))
            }
            let handle = directories.withLock { state in
                let handle = state.next
                state.next += 1
                state.open[handle] = entries
                return handle
            }
            return .open(handle: handle, keepCache: true)
        }
    }

    /// readdir, or with `plus` readdirplus: each entry with its attributes, so that `ls -l`,
    /// `find` and `cp -a` need no lookup per name. As many entries from `offset` on as fit
    /// in `size` bytes.
    func readdir(_ number: UInt64, handle: UInt64?, size: Int, offset: off_t, plus: Bool) -> FuseReply {
        touch()
        guard let handle, let entries = directories.withLock({ $0.open[handle] }) else { return .error(EBADF) }
        let directoryPath = path(number)
        var page: [DirectoryPage.Entry] = []
        var used = 0
        var position = Int(max(offset, 0))
        while position < entries.count + 2 {
            let name: [UInt8] = position < 2 ? Array(repeating: 0x2E, count: position + 1) : entries[position - 2].name.bytes
            let needed = DirectoryPage.recordSize(nameLength: name.count, plus: plus)
            if needed > size - used { break }
            used += needed
            // Node 0 in readdirplus: no attributes for this name (".", "..", or one that
            // failed to read: its own lookup reports the error).
            var entry = FuseEntry(node: 0, attributes: Glibc.stat(), timeout: 0)
            if position < 2 {
                entry.attributes.st_ino = ino_t(number)
                entry.attributes.st_mode = S_IFDIR
            } else {
                let listed = entries[position - 2]
                if plus, let found = try? self.entry(listed.node, path: PointNamespace.join(directoryPath, listed.name)) { entry = found }
                entry.attributes.st_ino = ino_t(listed.node.number)
                if entry.attributes.st_mode == 0 { entry.attributes.st_mode = StatConversion.typeBits(listed.kind) }
            }
            position += 1
            page.append(DirectoryPage.Entry(name: name, nextOffset: position, entry: entry))
        }
        return .directoryPage(DirectoryPage(plus: plus, size: size, entries: page))
    }

    func releasedir(handle: UInt64?) -> FuseReply {
        if let handle {
            directories.withLock { _ = $0.open.removeValue(forKey: handle) }
        }
        return .error(0)
    }
}
