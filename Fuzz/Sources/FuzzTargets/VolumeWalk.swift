import VolumeModel

/// Everything a frontend does with a volume, on every node reachable from the root: the
/// walk `ls -R` and `cp -R` do, and `cp --stream` of every named stream. Errors are expected (the input is garbage); traps, hangs and
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
                }
            case .regular:
                read(volume, node, size: attributes.size)
                // Named streams as `cp --stream` copies them: each as a file of its own.
                for stream in (try? volume.namedStreams(of: node)) ?? [] {
                    guard let inner = try? volume.streamNode(of: node, named: stream.name),
                          let streamAttributes = try? volume.attributes(of: inner) else { continue }
                    read(volume, inner, size: streamAttributes.size)
                }
            case .symlink:
                _ = try? volume.symlinkTarget(of: node)
            default:
                break
            }
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
