import Cryptography
import PointNamespace
import RecoveryPoint
import VolumeModel

/// Whether two catalogued files hold the same bytes, decided exactly:
///
/// - different sizes: different;
/// - the same key domain (one DEK lineage) and equal fingerprints (the chunk ids and offsets
///   the bytes lie at, the encoding, the keyed hash of inline bytes): the same, since equal
///   chunk ids in one domain are equal plaintexts;
/// - otherwise (other placement, or another domain, where ids and keyed hashes mean nothing
///   to each other): the bytes of both files are read and compared.
public enum ContentComparison {
    /// A digest of where a file's bytes lie, by chunk id: equal digests in one key domain
    /// mean equal contents.
    public static func fingerprint(_ entry: CatalogEntry, point: OpenedPoint) throws(CatalogError) -> [UInt8]? {
        guard let content = entry.content else { return nil }
        let hasher: SHA256Hasher
        do {
            hasher = try SHA256Hasher()
        } catch {
            throw .point(.crypto(error))
        }
        func add(_ values: [UInt64]) {
            for value in values {
                withUnsafeBytes(of: value.littleEndian) { hasher.update($0) }
            }
        }
        switch content.encoding {
        case .plain: add([entry.size, 0])
        case let .lznt1(unitBytes, initializedSize): add([entry.size, 1, unitBytes, initializedSize])
        }
        add([UInt64(content.inlineDigest.count)])
        content.inlineDigest.withUnsafeBytes { hasher.update($0) }
        let zeros = [UInt8](repeating: 0, count: ChunkID.size)
        for piece in content.pieces {
            add([piece.fileOffset, piece.length, piece.offsetInChunk])
            let id = piece.disk < point.maps.count ? point.maps[piece.disk].id(at: piece.chunk)?.bytes : nil
            // A hole chunk (no id) is all zeros, wherever it is.
            (id ?? zeros).withUnsafeBytes { hasher.update($0) }
        }
        return hasher.finish()
    }

    public static func sameContent(_ a: CatalogEntry, in pointA: CatalogPoint, _ b: CatalogEntry, in pointB: CatalogPoint) throws(CatalogError) -> Bool {
        guard a.size == b.size else { return false }
        if pointA.point.domain == pointB.point.domain, let left = try fingerprint(a, point: pointA.point),
           let right = try fingerprint(b, point: pointB.point), left == right {
            return true
        }
        return try sameBytes(a.path, in: pointA, b.path, in: pointB)
    }

    static let blockSize = 1 << 20

    /// Reads both files through their points' trees and compares them block by block.
    static func sameBytes(_ pathA: String, in pointA: CatalogPoint, _ pathB: String, in pointB: CatalogPoint) throws(CatalogError) -> Bool {
        let treeA = try pointA.namespace()
        let treeB = try pointB.namespace()
        do throws(NamespaceError) {
            let nodeA = try treeA.resolve(pathA)
            let nodeB = try treeB.resolve(pathB)
            var left = [UInt8](repeating: 0, count: blockSize)
            var right = [UInt8](repeating: 0, count: blockSize)
            var offset: UInt64 = 0
            while true {
                let readA = try read(treeA, nodeA, pathA, at: offset, into: &left)
                let readB = try read(treeB, nodeB, pathB, at: offset, into: &right)
                guard readA == readB, left[..<readA] == right[..<readB] else { return false }
                guard readA > 0 else { return true }
                offset += UInt64(readA)
            }
        } catch {
            throw .namespace(error)
        }
    }

    private static func read(_ tree: PointNamespace, _ node: PointNamespace.Node, _ path: String, at offset: UInt64,
                             into buffer: inout [UInt8]) throws(NamespaceError) -> Int {
        try buffer.withUnsafeMutableBytes { bytes in
            Result { () throws(NamespaceError) in
                try tree.withVolume(node, path: path) { reader, inner throws(VolumeError) in try reader.read(inner, at: offset, into: bytes) }
            }
        }.get()
    }
}
