import BlockDevices
import ByteParsing
import Cryptography
import KeyManagement
import PointDisk
import Pools
@testable import RecoveryPoint

/// The point file parsers: the public header, then (under a known DEK) the sealed manifest
/// with every disk's chunk map, then reads through `RecoveryPointDisk` at the chunk
/// boundaries the maps and layouts imply.
///
/// Input: a header, then the manifest *plaintext*. The fuzzer cannot forge a GCM tag, so the
/// harness seals the manifest under the header it was given: what it fuzzes is everything an
/// attacker who holds the DEK could write, which is the most any attacker can.
enum PointTarget {
    static let dek = [UInt8](repeating: 0x5A, count: 32).withUnsafeBytes { SecretBytes(copying: $0) }

    static func run(_ input: [UInt8]) {
        let id = PointID(uncheckedBytes: input.count >= 32 ? Array(input[16 ..< 32]) : [UInt8](repeating: 0, count: 16))
        guard let header = try? OpenedPoint.header(id, in: MemoryStore(id: id, file: input, keys: nil)),
              let length = try? ByteReader(input).integer(at: 12, "header length") as UInt32,
              let keys = try? KeySchedule(dek: dek, domain: header.domain),
              let key = try? keys.manifestKey(salt: header.manifestSalt, point: header.id)
        else { return }
        let headerBytes = Array(input[..<Int(length)])
        let nonce = [UInt8](repeating: 7, count: AES256GCM.nonceSize)
        guard let (ciphertext, tag) = try? AES256GCM.seal(key: key, nonce: nonce, aad: headerBytes, plaintext: Array(input[Int(length)...])) else { return }
        let store = MemoryStore(id: id, file: headerBytes + nonce + ciphertext + tag, keys: keys)
        guard let point = try? OpenedPoint.open(id, in: store, provider: FixedKey()) else { return }
        // No cache, so no read-ahead: each run does its work on this thread and finishes it.
        for disk in RecoveryPointDisk.disks(of: point, cacheSize: 0).prefix(4) {
            let chunk = UInt64(disk.layout.chunkSize)
            let stored = point.maps[disk.diskIndex].indices
            // Both ends of the disk, and of its first and last stored chunks.
            var offsets: [UInt64] = [0, disk.size &- 1]
            for index in [stored.first, stored.last].compactMap({ $0 }) {
                offsets += [index &* chunk, index &* chunk &+ chunk &- 1]
            }
            for offset in offsets {
                _ = try? disk.read(at: offset, count: 2)
            }
        }
    }

    private struct FixedKey: KeyProvider {
        var description: String { "fixed fuzzing key" }
        func versions(of name: String) throws(KeyError) -> [String] { [] }
        func wrap(_ dek: SecretBytes, with kek: KEKIdentifier) throws(KeyError) -> [UInt8] { [] }
        func unwrap(_ wrapped: [UInt8], with kek: KEKIdentifier) throws(KeyError) -> SecretBytes { PointTarget.dek }
    }

    /// One point file; every chunk it is asked for is a valid object of zeros under `keys`
    /// (nil: the header alone is read), so reads get past authentication to the mapping.
    private struct MemoryStore: ChunkStore {
        let id: PointID
        let file: [UInt8]
        let keys: KeySchedule?
        var location: String { "memory" }

        func readChunk(_ id: ChunkID, plaintextLength: Int, once: Bool, pool: BufferPool) throws(RecoveryPointError.ChunkFault) -> ChunkBuffer {
            guard let keys else { throw .missing }
            let zeros = [UInt8](repeating: 0, count: plaintextLength)
            do {
                return try zeros.withUnsafeBytes { plaintext in
                    Result { () throws(CryptoError) in try ChunkObject.seal(plaintext, id: id, keys: keys, pool: pool) }
                }.get()
            } catch {
                throw .crypto(error)
            }
        }

        func readPoint(_ id: PointID, upTo: Int) throws(RecoveryPointError) -> (bytes: [UInt8], size: UInt64) {
            (Array(file.prefix(upTo)), UInt64(file.count))
        }

        func hasChunk(_ id: ChunkID) throws(RecoveryPointError) -> Bool { false }
        func writeChunk(_ id: ChunkID, object: ChunkBuffer) throws(RecoveryPointError) {}
        func syncChunks() throws(RecoveryPointError) {}
        func pointIDs() throws(RecoveryPointError) -> [PointID] { [id] }
        func writePoint(_ id: PointID, bytes: [UInt8], replacing: Bool) throws(RecoveryPointError) {}
        func readCatalog(_ id: PointID) throws(RecoveryPointError) -> CatalogBytes { throw .catalogMissing(id) }
        func writeCatalog(_ id: PointID, bytes: CatalogBytes) throws(RecoveryPointError) {}
    }
}

extension PointTarget {
    /// Inputs in this target's format (header, then manifest plaintext) written by the
    /// format's own serializers: one small point, and one with the largest disk, chunks and
    /// counts the format allows.
    static func seeds() -> [[UInt8]] {
        guard let kek = try? KEKIdentifier(name: "backup", version: "1") else { return [] }
        func input(disks: [(DiskLayout, [UInt64])], parent: PointID?, guest: GuestEncryption, keys: Int) -> [UInt8] {
            let header = PointHeader(
                id: PointID(uncheckedBytes: (0 ..< 16).map { UInt8($0) }), created: 1_700_000_000_000_000_000, parent: parent,
                domain: [UInt8](repeating: 1, count: 16), manifestSalt: [UInt8](repeating: 2, count: 32), guestEncryption: guest,
                sourceName: "web01", disks: disks.map(\.0), storedChunks: disks.map { UInt64($0.1.count) },
                wrappedKeys: Array(repeating: WrappedKey(kek: kek, algorithm: .rsaOAEPSHA256, bytes: [UInt8](repeating: 3, count: 256)), count: keys))
            var manifest = ByteWriter()
            for (_, indices) in disks {
                var map = ChunkMap()
                for index in indices { map.append(index: index, id: ChunkID(uncheckedBytes: [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: 32))) }
                map.serialize(into: &manifest)
            }
            return header.serialize() + manifest.bytes
        }
        return [
            input(disks: [(DiskLayout(name: "disk0", size: 10 << 20, chunkSizeLog2: 16), [0, 1, 5, 159])], parent: nil, guest: .none, keys: 1),
            input(disks: [(DiskLayout(name: "disk0", size: 3 << 20 | 5, chunkSizeLog2: 20), [3]),
                          (DiskLayout(name: "data.1", size: DiskLayout.maxSize, chunkSizeLog2: 24), [0, 1 << 20, (1 << 26) - 1])],
                  parent: PointID(uncheckedBytes: [UInt8](repeating: 9, count: 16)), guest: .adeDmCrypt, keys: 2),
        ]
    }
}
