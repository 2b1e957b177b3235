import Cryptography
import KeyManagement

/// Key rotation for a point: wraps its DEK under another KEK version without touching any
/// chunk. The point file is rewritten (new manifest salt, sealed again) and replaced atomically.
public enum Rewrap {
    /// Wraps the DEK of `id` under `target`. Existing wrappings are dropped unless
    /// `keepExisting`, so after a plain rewrap the old KEK version can be deleted.
    public static func rewrap(_ id: PointID, in store: some ChunkStore, provider: some KeyProvider,
                              to target: KEKReference, keepExisting: Bool) throws(RecoveryPointError) -> (from: KEKIdentifier, to: KEKIdentifier) {
        let point = try OpenedPoint.open(id, in: store, provider: provider)
        let kek: KEKIdentifier
        let wrapped: [UInt8]
        do {
            kek = try provider.resolve(target)
            wrapped = try provider.wrap(point.keys.dataEncryptionKey, with: kek)
        } catch {
            throw .key(error, point: id)
        }
        var header = point.header
        let fresh = WrappedKey(kek: kek, algorithm: .rsaOAEPSHA256, bytes: wrapped)
        header.wrappedKeys = keepExisting ? header.wrappedKeys.filter { $0.kek != kek } + [fresh] : [fresh]
        guard header.wrappedKeys.count <= PointFormat.maxWrappedKeys else {
            throw .invalidArgument("a point holds at most \(PointFormat.maxWrappedKeys) wrapped keys")
        }
        try RecoveryPointError.capturing {
            header.manifestSalt = try Random.bytes(PointFormat.saltSize)
            try store.writePoint(id, bytes: try PointFile.seal(header: header, maps: point.maps, keys: point.keys), replacing: true)
        }
        return (point.kek, kek)
    }
}
