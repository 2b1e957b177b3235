import BlockDevices
import KeyManagement
import PartitionTable
import PointDisk
import RecoveryPoint
import VolumeModel

/// One tree over a whole point, for every frontend (ls, cp, restore, FUSE):
///
///     /                      the disks
///     /<disk>                its volumes: part<N>, or volume for an unpartitioned disk
///     /<disk>/<volume>/...   the volume's own tree
///
/// Opening applies `GuestEncryptionPolicy`: a point flagged as guest-encrypted is refused
/// before its key is unwrapped; BitLocker and LUKS volumes refuse the point unless skipped.
public final class PointNamespace: Sendable {
    /// Turns a readable volume into its filesystem reader.
    public typealias VolumeOpener = @Sendable (PointInventory.Volume) throws(VolumeError) -> any Volume

    public struct Options: Sendable {
        public var skipEncryptedVolumes = false
        public var cacheSize = RecoveryPointDisk.defaultCacheSize
        public init() {}
    }

    /// A volume in the tree: its reader, or why there is none, with the error that caused
    /// it when one did (a damaged chunk under the volume, a reader that failed to open it).
    enum Mount: Sendable {
        case readable(any Volume)
        case unavailable(String, cause: NamespaceError?)
    }

    let point: OpenedPoint
    let inventory: PointInventory
    /// Guest-encrypted volumes left out because the caller asked to skip them.
    public let skippedVolumes: [PointInventory.Volume]
    private let mounts: [Mount]

    public static func open(_ id: PointID, in store: some ChunkStore, provider: some KeyProvider,
                            options: Options = Options(), opener: VolumeOpener) throws(NamespaceError) -> PointNamespace {
        let header = try header(id, store)
        do throws(Refusal) {
            try GuestEncryptionPolicy.check(header)
        } catch {
            throw .refused(error)
        }
        let point: OpenedPoint
        do {
            point = try OpenedPoint.open(id, in: store, provider: provider)
        } catch {
            throw .point(error)
        }
        let inventory = PointInventory.survey(point, cacheSize: options.cacheSize)
        let skipped: [PointInventory.Volume]
        do throws(Refusal) {
            skipped = try GuestEncryptionPolicy.encryptedVolumes(in: inventory, skip: options.skipEncryptedVolumes)
        } catch {
            throw .refused(error)
        }
        let mounts = inventory.volumes.map { volume -> Mount in
            if volume.isGuestEncrypted {
                return .unavailable("skipped: encrypted inside the guest (\(volume.info.kind.displayName))", cause: nil)
            }
            if let unreadable = volume.unreadable {
                return .unavailable("not readable: \(unreadable)", cause: .device(path: volume.path, unreadable))
            }
            guard volume.info.kind.isReadable else {
                return .unavailable(volume.info.kind == .unknown
                    ? "not readable: contents not recognised"
                    : "not readable: \(volume.info.kind.unsupportedReason)", cause: nil)
            }
            do throws(VolumeError) {
                return .readable(try opener(volume))
            } catch {
                return .unavailable("cannot open \(volume.info.kind.displayName) volume: \(error)", cause: .volume(path: volume.path, error))
            }
        }
        // Opening the readers read only metadata; from here on reads are for files.
        inventory.startReadAhead()
        return PointNamespace(point: point, inventory: inventory, skipped: skipped, mounts: mounts)
    }

    /// The point's id, as `rpfs points` prints it.
    public var pointID: String { point.header.id.description }

    /// The largest chunk of any disk: the unit in which bytes are authenticated and cached.
    public var largestChunkSize: Int { point.header.disks.map(\.chunkSize).max() ?? 0 }

    /// The size of all disks together.
    public var totalDiskBytes: UInt64 { inventory.disks.reduce(UInt64(0)) { $0 + $1.layout.size } }

    private static func header(_ id: PointID, _ store: some ChunkStore) throws(NamespaceError) -> PointHeader {
        do {
            return try OpenedPoint.header(id, in: store)
        } catch {
            throw .point(error)
        }
    }

    private init(point: OpenedPoint, inventory: PointInventory, skipped: [PointInventory.Volume], mounts: [Mount]) {
        self.point = point
        self.inventory = inventory
        skippedVolumes = skipped
        self.mounts = mounts
    }

    // MARK: Nodes

    /// A node of the tree. `number` gives each a stable inode number, unique across volumes.
    public enum Node: Hashable, Sendable {
        case root
        case disk(Int)
        /// A volume that cannot be read: listed, but it has no contents.
        case unavailableVolume(Int)
        /// `node` of volume `volume` (an index into `inventory.volumes`).
        case file(volume: Int, node: UInt64)

        /// 1 for the root, 0x100 + d for disks, and (volume + 1) << 48 | node inside volumes:
        /// ext inode numbers are 32-bit, and NTFS nodes (records, and streams as nodes) stay
        /// below 2^48, so they fit.
        public var number: UInt64 {
            switch self {
            case .root: 1
            case let .disk(index): 0x100 + UInt64(index)
            case let .unavailableVolume(volume): UInt64(volume + 1) << 48
            case let .file(volume, node): UInt64(volume + 1) << 48 | (node & ((1 << 48) - 1))
            }
        }
    }

    /// The node behind an inode number from `Node.number`; nil for numbers this tree never gave out.
    public func node(number: UInt64) -> Node? {
        if number == 1 { return .root }
        if number >= 0x100, number < 0x100 + UInt64(inventory.disks.count) { return .disk(Int(number - 0x100)) }
        let volume = Int(number >> 48) - 1
        let inner = number & ((1 << 48) - 1)
        guard volume >= 0, volume < mounts.count else { return nil }
        switch mounts[volume] {
        case .readable: return inner == 0 ? nil : .file(volume: volume, node: inner)
        case .unavailable: return inner == 0 ? .unavailableVolume(volume) : nil
        }
    }

    public struct Entry: Sendable {
        public let name: FileName
        public let node: Node
        public let kind: NodeKind
    }

    /// The path of `name` inside the directory at `directory`.
    public static func join(_ directory: String, _ name: FileName) -> String {
        directory == "/" ? "/\(name)" : "\(directory)/\(name)"
    }

    /// The node at an absolute path ("/", "/disk0", "/disk0/part1/etc/hostname").
    public func resolve(_ path: String) throws(NamespaceError) -> Node {
        guard path.hasPrefix("/") else { throw .invalidPath(path, reason: "paths in a point start with /") }
        var node = Node.root
        var walked = ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            let name: FileName
            do {
                name = try FileName(validating: String(component))
            } catch {
                throw .invalidPath(path, reason: "'\(component)' is not a valid name")
            }
            walked += "/\(component)"
            node = try lookup(name, in: node, path: walked)
        }
        return node
    }

    public func lookup(_ name: FileName, in directory: Node, path: String) throws(NamespaceError) -> Node {
        switch directory {
        case .root:
            guard let disk = inventory.disks.firstIndex(where: { $0.layout.name == name.description }) else { throw .notFound(path) }
            return .disk(disk)
        case let .disk(disk):
            try checkTable(disk, path: path)
            guard let volume = volumeIndex(disk: disk, name: name.description) else { throw .notFound(path) }
            switch mounts[volume] {
            case let .readable(reader): return .file(volume: volume, node: reader.rootNode)
            case .unavailable: return .unavailableVolume(volume)
            }
        case let .unavailableVolume(volume):
            throw unavailable(volume)
        case let .file(volume, node):
            let reader = try self.reader(volume)
            do {
                return .file(volume: volume, node: try reader.lookup(name, in: node))
            } catch {
                throw .volume(path: path, error)
            }
        }
    }

    public func list(_ directory: Node, path: String) throws(NamespaceError) -> [Entry] {
        switch directory {
        case .root:
            return inventory.disks.enumerated().compactMap { index, disk in
                (try? FileName(validating: disk.layout.name)).map { Entry(name: $0, node: .disk(index), kind: .directory) }
            }
        case let .disk(disk):
            try checkTable(disk, path: path)
            return inventory.volumes.enumerated().compactMap { index, volume -> Entry? in
                guard volume.path.hasPrefix("/\(inventory.disks[disk].layout.name)/"), let name = try? FileName(validating: volume.name) else { return nil }
                switch mounts[index] {
                case let .readable(reader): return Entry(name: name, node: .file(volume: index, node: reader.rootNode), kind: .directory)
                case .unavailable: return Entry(name: name, node: .unavailableVolume(index), kind: .directory)
                }
            }
        case let .unavailableVolume(volume):
            throw unavailable(volume)
        case let .file(volume, node):
            let reader = try self.reader(volume)
            do {
                return try reader.entries(of: node).map { Entry(name: $0.name, node: .file(volume: volume, node: $0.node), kind: $0.kind) }
            } catch {
                throw .volume(path: path, error)
            }
        }
    }

    /// A disk whose table could not be read because its chunks could not (missing, damaged,
    /// unavailable) says so, rather than looking empty.
    private func checkTable(_ disk: Int, path: String) throws(NamespaceError) {
        if case let .failure(.unreadable(_, _, error)) = inventory.disks[disk].table, case .source = error {
            throw .device(path: path, error)
        }
    }

    /// Whether names below `node` differ by case: the volume's rule inside volumes; the
    /// disk and volume names rpfs gives are matched exactly.
    public func caseSensitiveNames(below node: Node) -> Bool {
        guard case let .file(volume, _) = node, case let .readable(reader) = mounts[volume] else { return true }
        return reader.caseSensitiveNames
    }

    public func attributes(_ node: Node, path: String) throws(NamespaceError) -> NodeAttributes {
        guard case let .file(volume, inner) = node else {
            // Disks, volume directories and the root: read-only directories stamped with the point's time.
            let created = point.header.created.quotientAndRemainder(dividingBy: 1_000_000_000)
            let time = Timestamp(seconds: created.quotient, nanoseconds: UInt32(clamping: max(0, created.remainder)))
            return NodeAttributes(node: node.number, kind: .directory, permissions: 0o555, uid: 0, gid: 0, size: 0,
                                  allocatedBytes: 0, linkCount: 2, accessed: time, modified: time, changed: time,
                                  created: time, device: 0)
        }
        let reader = try self.reader(volume)
        do {
            var attributes = try reader.attributes(of: inner)
            attributes.node = node.number
            return attributes
        } catch {
            throw .volume(path: path, error)
        }
    }

    /// Runs `body` on the reader and node behind a file node, mapping its errors to `path`.
    public func withVolume<T>(_ node: Node, path: String, _ body: (any Volume, UInt64) throws(VolumeError) -> T) throws(NamespaceError) -> T {
        guard case let .file(volume, inner) = node else { throw .volume(path: path, .isADirectory(path)) }
        let reader = try self.reader(volume)
        do {
            return try body(reader, inner)
        } catch {
            throw .volume(path: path, error)
        }
    }

    private func reader(_ volume: Int) throws(NamespaceError) -> any Volume {
        switch mounts[volume] {
        case let .readable(reader): return reader
        case .unavailable: throw unavailable(volume)
        }
    }

    /// What reading inside an unreadable volume meets: the error that made it unreadable,
    /// when one did (damage keeps its name), else the reason it is not read.
    private func unavailable(_ volume: Int) -> NamespaceError {
        if case let .unavailable(_, cause?) = mounts[volume] { return cause }
        return .volumeUnavailable(path: inventory.volumes[volume].path, reason: reason(volume))
    }

    private func reason(_ volume: Int) -> String {
        if case let .unavailable(reason, _) = mounts[volume] { return reason }
        return "readable"
    }

    private func volumeIndex(disk: Int, name: String) -> Int? {
        let path = "/\(inventory.disks[disk].layout.name)/\(name)"
        return inventory.volumes.firstIndex { $0.path == path }
    }
}
