import ByteParsing
import Cryptography
import KeyManagement
import POSIXFiles

/// Where a chunk sits, for errors that must tell the user which bytes of which disk are lost.
public struct ChunkLocation: Sendable, CustomStringConvertible, Equatable {
    public let disk: String
    public let index: UInt64
    public let byteRange: Range<UInt64>
    public let id: ChunkID

    public var description: String {
        "disk \(disk) chunk \(index) (bytes \(byteRange.lowerBound)-\(byteRange.upperBound - 1), id \(id.description.prefix(16)))"
    }
}

public enum RecoveryPointError: Error, Sendable, CustomStringConvertible {
    case notAStore(path: String)
    case pointNotFound(String, store: String)
    case ambiguousPoint(String, matches: [PointID])
    /// The point file cannot be parsed: truncated, a field out of range, an unknown code.
    case malformedPoint(PointID?, reason: String)
    case unsupportedFormatVersion(PointID?, version: UInt16)
    /// The point's metadata failed authentication under its DEK: it was changed.
    case metadataTampered(PointID)
    /// The point has no catalog (made before catalogs, or its catalog was deleted).
    case catalogMissing(PointID)
    /// The catalog object fails authentication or its framing is wrong.
    case catalogDamaged(PointID, reason: String)
    case chunkMissing(ChunkLocation)
    case chunkDamaged(ChunkLocation, reason: String)
    /// The store could not be read (permissions, I/O): not proof of damage.
    case chunkUnreadable(ChunkLocation, SystemError)
    /// A remote store did not deliver the chunk (unreachable, refused): not proof of damage.
    case chunkUnavailable(ChunkLocation, any StoreFault)
    /// A remote store failed outside any one chunk: listing, a point file, a write.
    case store(any StoreFault)
    case key(KeyError, point: PointID?)
    case io(SystemError)
    case invalidArgument(String)
    case crypto(CryptoError)

    public var description: String {
        switch self {
        case let .notAStore(path):
            "\(path) is not an rpfs store (no rpfs-store marker file); create one with `rpfs create`"
        case let .pointNotFound(text, store):
            "no point '\(text)' in store \(store) (`rpfs points` lists them)"
        case let .ambiguousPoint(text, matches):
            "'\(text)' matches \(matches.count) points: \(matches.map(\.description).joined(separator: ", "))"
        case let .malformedPoint(id, reason):
            "point \(id.map(\.description) ?? "file") is malformed: \(reason)"
        case let .unsupportedFormatVersion(id, version):
            "point \(id.map(\.description) ?? "file") has format version \(version); this rpfs reads version \(PointFormat.version)"
        case let .metadataTampered(id):
            "point \(id): metadata failed authentication: the point file was modified after it was written"
        case let .catalogMissing(id):
            "point \(id) has no catalog: run 'rpfs index \(id)' to build it"
        case let .catalogDamaged(id, reason):
            "the catalog of point \(id) is damaged (\(reason)): run 'rpfs index \(id)' to build it again"
        case let .chunkMissing(location):
            "integrity error: \(location) is missing from the store"
        case let .chunkDamaged(location, reason):
            "integrity error: \(location) \(reason)"
        case let .chunkUnreadable(location, error):
            "cannot read \(location): \(error)"
        case let .chunkUnavailable(location, fault):
            "cannot read \(location): \(fault)"
        case let .store(fault):
            fault.description
        case let .key(error, point):
            point.map { "point \($0): \(error)" } ?? "\(error)"
        case let .io(error):
            "\(error)"
        case let .invalidArgument(message):
            message
        case let .crypto(error):
            "\(error)"
        }
    }
}

extension RecoveryPointError {
    /// A chunk whose stored object is missing, truncated or fails authentication.
    public var isDamage: Bool {
        switch self {
        case .chunkMissing, .chunkDamaged: true
        default: false
        }
    }

    /// Runs a step that mixes file, crypto and format work, turning what the lower layers
    /// throw into this module's error. The one place that mapping is written.
    static func capturing<T>(_ body: () throws -> T) throws(RecoveryPointError) -> T {
        do {
            return try body()
        } catch let error as RecoveryPointError {
            throw error
        } catch let error as CryptoError {
            throw .crypto(error)
        } catch let error as SystemError {
            throw .io(error)
        } catch let error as KeyError {
            throw .key(error, point: nil)
        } catch {
            throw .invalidArgument("\(error)")
        }
    }

    /// Places a chunk fault on the disk.
    static func chunk(_ fault: ChunkFault, at location: ChunkLocation) -> RecoveryPointError {
        switch fault {
        case .missing: .chunkMissing(location)
        case let .unreadable(error): .chunkUnreadable(location, error)
        case let .unavailable(fault) where fault.kind != .notFound: .chunkUnavailable(location, fault)
        case .unavailable: .chunkMissing(location)
        default: .chunkDamaged(location, reason: fault.description)
        }
    }

    /// Why one chunk object is unusable; becomes `chunkDamaged` once its location is known.
    public enum ChunkFault: Error, Sendable, CustomStringConvertible {
        case missing
        case wrongSize
        case badMagic
        case unreadable(SystemError)
        /// A remote store's failure; `notFound` is a missing chunk.
        case unavailable(any StoreFault)
        case authenticationFailed
        case crypto(CryptoError)

        public var description: String {
            switch self {
            case .missing: "is missing from the store"
            case .wrongSize: "has the wrong size (truncated or extended)"
            case let .unreadable(error): "could not be read: \(error)"
            case let .unavailable(fault): "could not be fetched: \(fault)"
            case .badMagic: "is not a chunk object (bad magic)"
            case .authenticationFailed: "failed authentication (modified, swapped, or from another point or store)"
            case let .crypto(error): "could not be decrypted: \(error)"
            }
        }
    }

    static func malformed(_ id: PointID?, _ error: ByteParsingError) -> RecoveryPointError {
        .malformedPoint(id, reason: error.description)
    }
}
