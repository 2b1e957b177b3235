import PointNamespace

/// `rpfs verify --files`: what damaged chunks cost. The tree is walked as a catalog is built
/// (metadata only): a file whose bytes lie in a damaged chunk loses those byte ranges; a
/// path whose metadata cannot be read because of damage (a partition table, a superblock,
/// an inode, a directory, MFT records) loses itself and everything below it, which the
/// point's catalog, when it has one, names.
public struct DamageSurvey: Sendable {
    /// Chunk `index` of disk `disk` (its index in the point's header).
    public struct Chunk: Hashable, Comparable, Sendable {
        public let disk: Int
        public let index: UInt64

        public init(disk: Int, index: UInt64) {
            self.disk = disk
            self.index = index
        }

        public static func < (lhs: Chunk, rhs: Chunk) -> Bool { (lhs.disk, lhs.index) < (rhs.disk, rhs.index) }
    }

    /// A file whose metadata is intact but some of whose bytes lie in damaged chunks.
    public struct LostBytes: Sendable {
        public let path: String
        public let size: UInt64
        /// The file's byte ranges that cannot be restored, in order, merged.
        public let ranges: [Range<UInt64>]
        public let chunks: [Chunk]
    }

    /// A path whose own metadata cannot be read because of damage.
    public struct LostMetadata: Sendable {
        public let path: String
        public let problem: String
        /// What the catalog recorded below it (paths), when there is a catalog; these are
        /// lost with it.
        public var below: [String]
    }

    public private(set) var files: [LostBytes] = []
    public private(set) var metadata: [LostMetadata] = []
    /// Backup copies used in place of damaged structures: read around, nothing lost.
    public let notes: [String]
    /// Whether the point's catalog named what lies below unreadable metadata.
    public private(set) var usedCatalog = false

    /// Surveys `namespace` for the cost of the `damaged` chunks. `catalog`: the point's
    /// catalog, when it has one. `progress` gets the count of paths walked, now and then.
    public static func survey(_ namespace: PointNamespace, damaged: Set<Chunk>, catalog: CatalogStream?,
                              progress: ((Int) -> Void)? = nil) throws(CatalogError) -> DamageSurvey {
        var survey = DamageSurvey(notes: namespace.notes)
        var walked = 0
        try CatalogBuilder.walk(namespace) { (entry, failure) throws(CatalogError) in
            walked += 1
            if walked % 4096 == 0 { progress?(walked) }
            if let failure, failure.isDamage {
                survey.metadata.append(LostMetadata(path: entry.path, problem: failure.description, below: []))
            }
            if let pieces = entry.content?.pieces {
                let hit = pieces.filter { damaged.contains(Chunk(disk: $0.disk, index: $0.chunk)) }
                if !hit.isEmpty {
                    survey.files.append(LostBytes(path: entry.path, size: entry.size, ranges: merged(hit.map { $0.fileOffset ..< $0.fileOffset + $0.length }),
                                                  chunks: Array(Set(hit.map { Chunk(disk: $0.disk, index: $0.chunk) })).sorted()))
                }
            }
        }
        if var catalog, !survey.metadata.isEmpty {
            try survey.nameWhatIsBelow(from: &catalog)
        }
        return survey
    }

    private init(notes: [String]) {
        self.notes = notes
    }

    /// Fills each lost path's `below` from the catalog, in one pass over its records.
    private mutating func nameWhatIsBelow(from catalog: inout CatalogStream) throws(CatalogError) {
        let lost = Dictionary(metadata.enumerated().map { ($1.path, $0) }) { first, _ in first }
        while let entry = try catalog.next() {
            // The nearest lost ancestor, walking up the path.
            var parent = Substring(entry.path)
            while let slash = parent.lastIndex(of: "/"), slash != parent.startIndex {
                parent = parent[..<slash]
                if let index = lost[String(parent)] {
                    metadata[index].below.append(entry.path)
                    break
                }
            }
        }
        usedCatalog = true
    }

    private static func merged(_ ranges: [Range<UInt64>]) -> [Range<UInt64>] {
        var result: [Range<UInt64>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = result.last, last.upperBound >= range.lowerBound {
                result[result.count - 1] = last.lowerBound ..< max(last.upperBound, range.upperBound)
            } else {
                result.append(range)
            }
        }
        return result
    }
}
