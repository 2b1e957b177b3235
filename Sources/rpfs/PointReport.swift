#if canImport(Glibc)
import Glibc
#endif
import KeyManagement
import RecoveryPoint

/// The JSON shape of a point in `rpfs points --json` and `rpfs inspect --json`.
/// Documented in README.md; fields are only ever added.
struct PointReport: Encodable {
    struct Disk: Encodable {
        let name: String
        let size: UInt64
        let chunkSize: Int
        let chunks: UInt64
        let storedChunks: UInt64
        /// inspect only, once the key opened the point: partition table and volumes.
        var layout: LayoutReport?
    }

    struct WrappedKey: Encodable {
        let kek: String
        let algorithm: String
        /// "available", "missing" or an error, with --keyring (inspect); absent otherwise.
        let state: String?
    }

    let id: String
    let created: String
    let name: String
    let parent: String?
    let guestEncryption: String
    var disks: [Disk]
    let wrappedKeys: [WrappedKey]
    /// inspect only: the KEK that unwrapped the DEK, and whether the metadata authenticated.
    var unwrappedWith: String?
    var metadata: String?
    /// inspect only: why ls, cp, restore and mount refuse this point, if they do.
    var refusal: String?

    init(_ header: PointHeader, keyStates: [String?]? = nil) {
        id = header.id.description
        created = Self.timestamp(header.created)
        name = header.sourceName
        parent = header.parent?.description
        guestEncryption = header.guestEncryption.name
        disks = zip(header.disks, header.storedChunks).map {
            Disk(name: $0.name, size: $0.size, chunkSize: $0.chunkSize, chunks: $0.chunkCount, storedChunks: $1)
        }
        wrappedKeys = header.wrappedKeys.enumerated().map { position, key in
            WrappedKey(kek: key.kek.description, algorithm: key.algorithm.name, state: keyStates?[position])
        }
    }

    /// RFC 3339 UTC with nanoseconds, e.g. 2026-11-23T12:15:26.123456789Z.
    static func timestamp(_ nanoseconds: Int64) -> String {
        let split = nanoseconds.quotientAndRemainder(dividingBy: 1_000_000_000)
        let (seconds, fraction) = split.remainder < 0 ? (split.quotient - 1, split.remainder + 1_000_000_000) : split
        return timestamp(seconds, nanoseconds: UInt32(fraction))
    }

    static func timestamp(_ seconds: Int64, nanoseconds: UInt32) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(cFormat: "%04ld-%02ld-%02ldT%02ld:%02ld:%02ld.%09ldZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(nanoseconds))
    }
}
