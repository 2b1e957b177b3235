import BlockDevices
import KeyManagement
import PartitionTable
import PointDisk
import RecoveryPoint
import VolumeModel

/// One tree over a whole point, for every frontend (ls, cp, restore, FUSE):
///
///     /                      the disks, lvm when the point holds LVM2 volume groups, and
///                            ldm when it holds Windows dynamic volumes
///     /<disk>                its volumes: part<N>, or volume for an unpartitioned disk
///     /<disk>/<volume>/...   the volume's own tree
///     /lvm                   the volume groups (docs/LVM.md, *Naming*)
///     /lvm/<vg>              its logical volumes
///     /lvm/<vg>/<lv>/...     the logical volume's own tree
///     /ldm/<volume>/...      a dynamic volume's own tree (docs/LDM.md, *Naming*)
///
/// An LVM2 physical volume stays listed under its disk, as a volume whose listing says which
/// volume group it belongs to and where that group's logical volumes are; a dynamic disk's
/// partitions likewise say which dynamic volumes they hold pieces of.
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

    /// The opened point: its header, chunk maps and keys.
    public let point: OpenedPoint
    let inventory: PointInventory
    /// Guest-encrypted volumes left out because the caller asked to skip them.
    public let skippedVolumes: [PointInventory.Volume]
    private let mounts: [Mount]

    public static func open(_ id: PointID, in store: some ChunkStore, provider: some KeyProvider,
                            options: Options = Options(), opener: VolumeOpener) throws(NamespaceError) -> PointNamespace {
        try check(try header(id, store))
        let point: OpenedPoint
        do {
            point = try OpenedPoint.open(id, in: store, provider: provider)
        } catch {
            throw .point(error)
        }
        return try open(point, inventory: PointInventory.survey(point, cacheSize: options.cacheSize), options: options, opener: opener)
    }

    /// The tree of `point` read from the plaintext images it was made from (one per disk, in
    /// order), with the point's chunk maps: what `create` catalogs without reading the
    /// point's chunks back.
    public static func open(_ point: OpenedPoint, images: [any BlockDevice], options: Options = Options(),
                            opener: VolumeOpener) throws(NamespaceError) -> PointNamespace {
        try check(point.header)
        guard images.count == point.header.disks.count else {
            throw .point(.invalidArgument("\(images.count) images for a point of \(point.header.disks.count) disks"))
        }
        return try open(point, inventory: PointInventory.survey(point, images: images), options: options, opener: opener)
    }

    private static func check(_ header: PointHeader) throws(NamespaceError) {
        do throws(Refusal) {
            try GuestEncryptionPolicy.check(header)
        } catch {
            throw .refused(error)
        }
    }

    private static func open(_ point: OpenedPoint, inventory: PointInventory, options: Options,
                             opener: VolumeOpener) throws(NamespaceError) -> PointNamespace {
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
            if volume.info.kind == .lvm2 {
                return .unavailable(inventory.physicalVolumeRole(volume.path), cause: nil)
            }
            if volume.info.kind == .ldm {
                return .unavailable(inventory.dynamicDiskRole(volume), cause: nil)
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

    /// Backup copies used in place of damaged structures (a GPT header, a superblock, a boot
    /// sector, MFT records), one sentence each: frontends say each once.
    public var notes: [String] {
        let tables = inventory.disks.compactMap { disk -> String? in
            guard case let .success(table) = disk.table, case let .gpt(.backup(reason)) = table.scheme else { return nil }
            return "/\(disk.layout.name): \(reason)"
        }
        return tables + mounts.flatMap { mount -> [String] in
            if case let .readable(reader) = mount { return reader.notes }
            return []
        }
    }

    /// Before the process ends: lets the chunk loads read-ahead started finish, at most
    /// `seconds`, so that a remote store's object cache keeps what they fetched.
    public func finishReads(within seconds: Double) {
        inventory.finishReads(within: seconds)
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
        /// /lvm, the volume groups.
        case lvm
        /// /ldm, the dynamic volumes of every disk group.
        case ldm
        /// /lvm/<vg>: group `index` of `inventory.groups`.
        case volumeGroup(Int)
        /// A volume that cannot be read: listed, but it has no contents.
        case unavailableVolume(Int)
        /// `node` of volume `volume` (an index into `inventory.volumes`).
        case file(volume: Int, node: UInt64)

        /// 1 for the root, 0x100 + d for disks, 2 for /lvm, 3 for /ldm, 0x1_0000 + g for volume groups,
        /// and (volume + 1) << 48 | node inside volumes: ext inode numbers are 32-bit, and NTFS
        /// nodes (records, and streams as nodes) stay below 2^48, so they fit. A point's disks
        /// number far fewer than the 0xFF00 that would reach the groups' range.
        public var number: UInt64 {
            switch self {
            case .root: 1
            case let .disk(index): 0x100 + UInt64(index)
            case .lvm: 2
            case .ldm: 3
            case let .volumeGroup(index): 0x1_0000 + UInt64(index)
            case let .unavailableVolume(volume): UInt64(volume + 1) << 48
            case let .file(volume, node): UInt64(volume + 1) << 48 | (node & ((1 << 48) - 1))
            }
        }
    }

    /// The node behind an inode number from `Node.number`; nil for numbers this tree never gave out.
    public func node(number: UInt64) -> Node? {
        if number == 1 { return .root }
        if number >= 0x100, number < 0x100 + UInt64(inventory.disks.count) { return .disk(Int(number - 0x100)) }
        if number == 2, !inventory.groups.isEmpty { return .lvm }
        if number == 3, hasDynamicVolumes { return .ldm }
        if number >= 0x1_0000, number < 0x1_0000 + UInt64(inventory.groups.count) { return .volumeGroup(Int(number - 0x1_0000)) }
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
            if let disk = inventory.disks.firstIndex(where: { $0.layout.name == name.description }) { return .disk(disk) }
            if name.description == PointInventory.dynamicVolumesDirectory, hasDynamicVolumes { return .ldm }
            guard name.description == Self.lvmDirectory, !inventory.groups.isEmpty else { throw .notFound(path) }
            return .lvm
        case let .disk(disk):
            try checkTable(disk, path: path)
            return try volumeNode("/\(inventory.disks[disk].layout.name)/\(name)", path: path)
        case .lvm:
            guard let group = inventory.groups.firstIndex(where: { $0.directory == name.description }) else { throw .notFound(path) }
            return .volumeGroup(group)
        case let .volumeGroup(group):
            return try volumeNode("\(inventory.groups[group].path)/\(name)", path: path)
        case .ldm:
            return try volumeNode("/\(PointInventory.dynamicVolumesDirectory)/\(name)", path: path)
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
            let disks = inventory.disks.enumerated().compactMap { index, disk in
                (try? FileName(validating: disk.layout.name)).map { Entry(name: $0, node: .disk(index), kind: .directory) }
            }
            return disks + [(Self.lvmDirectory, Node.lvm, !inventory.groups.isEmpty),
                            (PointInventory.dynamicVolumesDirectory, Node.ldm, hasDynamicVolumes)].compactMap { name, node, present in
                // A disk of that name would hide the directory.
                guard present, !inventory.disks.contains(where: { $0.layout.name == name }), let name = try? FileName(validating: name) else { return nil }
                return Entry(name: name, node: node, kind: .directory)
            }
        case let .disk(disk):
            try checkTable(disk, path: path)
            return volumeEntries(in: "/\(inventory.disks[disk].layout.name)")
        case .lvm:
            return inventory.groups.enumerated().compactMap { index, group in
                (try? FileName(validating: group.directory)).map { Entry(name: $0, node: .volumeGroup(index), kind: .directory) }
            }
        case let .volumeGroup(group):
            return volumeEntries(in: inventory.groups[group].path)
        case .ldm:
            return volumeEntries(in: "/\(PointInventory.dynamicVolumesDirectory)")
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

    /// The directory that holds the volume groups.
    static let lvmDirectory = "lvm"

    private var hasDynamicVolumes: Bool { inventory.diskGroups.contains { !$0.volumes.isEmpty } }

    /// The node of the volume whose path is `volumePath`.
    private func volumeNode(_ volumePath: String, path: String) throws(NamespaceError) -> Node {
        guard let volume = inventory.volumes.firstIndex(where: { $0.path == volumePath }) else { throw .notFound(path) }
        return volumeNode(volume)
    }

    private func volumeNode(_ volume: Int) -> Node {
        switch mounts[volume] {
        case let .readable(reader): .file(volume: volume, node: reader.rootNode)
        case .unavailable: .unavailableVolume(volume)
        }
    }

    /// The volumes directly inside `directory` ("/disk0", "/lvm/vg0").
    private func volumeEntries(in directory: String) -> [Entry] {
        inventory.volumes.enumerated().compactMap { index, volume -> Entry? in
            guard volume.path == "\(directory)/\(volume.name)", let name = try? FileName(validating: volume.name) else { return nil }
            return Entry(name: name, node: volumeNode(index), kind: .directory)
        }
    }
}
