import VolumeModel

/// Everything a frontend does with a volume, on every node reachable from the root: the
/// walk `ls -R` and `cp -R` do, and every named stream read as "FILE:STREAM". Errors are expected (the input is garbage); traps, hangs and
/// runaway allocations are what the fuzzer looks for. Bounded, so that a hostile tree
/// (a directory cycle, millions of entries) costs the walk, not the fuzzer.
enum VolumeWalk {
    static let maxNodes = 2048
    static let maxDepth = 64
    static let maxEntriesPerDirectory = 512
    static let maxBytesPerFile = 256 << 10
    static let readSize = 64 << 10

    static func exercise(_ volume: some Volume) {
        var pending: [(node: UInt64, depth: Int)] = [(volume.rootNode, 0)]
        var seen = Set<UInt64>()
        while let (node, depth) = pending.popLast(), seen.count < maxNodes {
            guard seen.insert(node).inserted, let attributes = try? volume.attributes(of: node) else { continue }
            _ = try? volume.extendedAttributes(of: node)
            switch attributes.kind {
            case .directory:
                guard depth < maxDepth, let entries = try? volume.entries(of: node) else { continue }
                for entry in entries.prefix(maxEntriesPerDirectory) {
                    _ = try? volume.lookup(entry.name, in: node)
                    pending.append((entry.node, depth + 1))
                    streams(of: entry, in: node, volume)
                }
            case .regular:
                read(volume, node, size: attributes.size)
            case .symlink:
                _ = try? volume.symlinkTarget(of: node)
            default:
                break
            }
        }
    }

    /// Each named stream of `entry` looked up as "FILE:STREAM" and read as a file, as a mount
    /// or `cp` does.
    private static func streams(of entry: DirectoryEntry, in directory: UInt64, _ volume: some Volume) {
        for stream in (try? volume.namedStreams(of: entry.node)) ?? [] {
            guard let name = try? FileName(validating: Array(entry.name.bytes) + Array(":\(stream.name)".utf8)),
                  let inner = try? volume.lookup(name, in: directory),
                  let attributes = try? volume.attributes(of: inner) else { continue }
            read(volume, inner, size: attributes.size)
        }
    }

    /// Reads the start of a file in pieces, its last byte and past its end; checks that no
    /// read claims more bytes than it was asked for.
    private static func read(_ volume: some Volume, _ node: UInt64, size: UInt64) {
        _ = try? volume.dataRanges(of: node)
        var buffer = [UInt8](repeating: 0, count: readSize)
        buffer.withUnsafeMutableBytes { buffer in
            var offsets = Array(stride(from: UInt64(0), to: min(size, UInt64(maxBytesPerFile)), by: readSize))
            offsets += [size &- 1, size, size &+ 1]
            for offset in offsets {
                guard let count = try? volume.read(node, at: offset, into: buffer) else { return }
                precondition(count <= buffer.count, "read returned \(count) bytes into a \(buffer.count)-byte buffer")
            }
        }
    }
}
