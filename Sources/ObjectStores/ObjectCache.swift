#if canImport(Glibc)
import Glibc
#endif
import ByteParsing
import Cryptography
import POSIXFiles
import RecoveryPoint
import Synchronization

/// A bounded cache of a remote store's chunk objects and catalogs on local disk, so that a remount or a
/// second restore fetches nothing twice. It holds ciphertext exactly as the store sent it:
/// nothing in it is of use without the point's key, and every object read from it is
/// authenticated like one fetched from the store (a bad copy is discarded and fetched again).
///
///     DIR/<16 hex: the store>/<2 hex>/<64 hex: chunk id>
///     DIR/<16 hex: the store>/catalogs/<point id>.catalog
///
/// Several rpfs processes may share a directory: objects appear under their name only once
/// complete (temporary name, then rename), a hit marks its object used by setting its mtime,
/// and eviction (least recently used first, down to 90% of the bound) runs under an
/// exclusive `flock` of `DIR/.lock`. A failing cache (full disk, no permission) is only a
/// cache that misses: it never fails a read.
public final class ObjectCache: Sendable {
    public struct Settings: Sendable {
        public var directory: String
        public var maxBytes: UInt64

        public init(directory: String, maxBytes: UInt64) {
            self.directory = directory
            self.maxBytes = maxBytes
        }

        /// `$XDG_CACHE_HOME/rpfs`, else `~/.cache/rpfs`.
        public static func defaultDirectory(environment: [String: String]) -> String {
            if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return "\(xdg)/rpfs" }
            return "\(environment["HOME"] ?? "/root")/.cache/rpfs"
        }
    }

    let settings: Settings
    /// This store's folder in the cache.
    let folder: String
    /// Bytes this process believes the whole cache holds: counted once, then kept up to date
    /// by this process's writes, and recounted by each eviction.
    private let usedBytes: Mutex<UInt64?> = Mutex(nil)

    /// nil when the directory cannot be made.
    init?(settings: Settings, store: String) {
        guard let hasher = try? SHA256Hasher() else { return nil }
        Array(store.utf8).withUnsafeBytes { hasher.update($0) }
        let digest = Hex.encode(hasher.finish().prefix(8))
        self.settings = settings
        folder = "\(settings.directory)/\(digest)"
        guard (try? Files.makeDirectory(folder, mode: 0o700)) != nil else { return nil }
    }

    private func path(_ id: ChunkID) -> (directory: String, file: String) {
        let hex = id.description
        return ("\(folder)/\(hex.prefix(2))", "\(folder)/\(hex.prefix(2))/\(hex)")
    }

    /// Where a point's catalog is kept: in the store's folder, beside the chunk folders.
    private func path(catalog id: PointID) -> (directory: String, file: String) {
        ("\(folder)/\(StoreLayout.catalogsFolder)", "\(folder)/\(StoreLayout.catalog(id))")
    }

    /// Fills `pages` with the cached object of `id` if there is one of `expected` bytes.
    func read(_ id: ChunkID, into pages: UnsafeMutableRawBufferPointer, expected: Int) -> Bool {
        let file = path(id).file
        guard (try? Files.readWhole(file, expected: expected, into: pages, uncached: false)) == true else { return false }
        touch(file)
        return true
    }

    /// The cached catalog of point `id`, if there is one, mapped.
    func read(catalog id: PointID) -> CatalogBytes? {
        let file = path(catalog: id).file
        guard let mapped = try? MappedFile(path: file) else { return nil }
        touch(file)
        return CatalogBytes(mapped)
    }

    /// Now the most recently used: mtime is the LRU stamp (atime may not be kept).
    private func touch(_ file: String) {
        _ = utimensat(AT_FDCWD, file, nil, 0)
    }

    func write(_ id: ChunkID, _ object: UnsafeRawBufferPointer) {
        store(object, at: path(id))
    }

    func write(catalog id: PointID, _ object: CatalogBytes) {
        object.withBytes { store($0, at: path(catalog: id)) }
    }

    private func store(_ object: UnsafeRawBufferPointer, at path: (directory: String, file: String)) {
        guard (try? Files.makeDirectory(path.directory, mode: 0o700)) != nil,
              (try? Files.writeAtomically(path.file, from: object, mode: 0o600, durable: false)) != nil else { return }
        let total = usedBytes.withLock { used -> UInt64 in
            let total = (used ?? countBytes()) + UInt64(object.count)
            used = total
            return total
        }
        if total > settings.maxBytes { evict() }
    }

    /// Removes the cached object of `id`; true when there was one.
    func discard(_ id: ChunkID) -> Bool {
        unlink(path(id).file) == 0
    }

    /// Removes the cached catalog of point `id`; true when there was one.
    func discard(catalog id: PointID) -> Bool {
        unlink(path(catalog: id).file) == 0
    }

    /// Every cached object of every store, with its size and last use.
    private func entries() -> [(path: String, size: UInt64, used: Int)] {
        var found: [(String, UInt64, Int)] = []
        for store in (try? Files.list(settings.directory)) ?? [] where !store.hasPrefix(".") {
            for prefix in (try? Files.list("\(settings.directory)/\(store)")) ?? [] {
                let directory = "\(settings.directory)/\(store)/\(prefix)"
                for name in (try? Files.list(directory)) ?? [] where !name.contains(".tmp") {
                    var status = stat()
                    guard stat("\(directory)/\(name)", &status) == 0, status.st_mode & S_IFMT == S_IFREG else { continue }
                    found.append(("\(directory)/\(name)", UInt64(status.st_size), status.st_mtim.tv_sec))
                }
            }
        }
        return found
    }

    private func countBytes() -> UInt64 {
        entries().reduce(0) { $0 + $1.size }
    }

    /// Deletes the least recently used objects until the cache holds 90% of its bound.
    private func evict() {
        let lock = open("\(settings.directory)/.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else { return }
        defer { close(lock) }
        guard flock(lock, LOCK_EX) == 0 else { return }
        var all = entries().sorted { $0.used < $1.used }
        var total = all.reduce(UInt64(0)) { $0 + $1.size }
        let target = settings.maxBytes / 10 * 9
        while total > target, !all.isEmpty {
            let oldest = all.removeFirst()
            if unlink(oldest.path) == 0 || errno == ENOENT { total -= min(total, oldest.size) }
        }
        usedBytes.withLock { $0 = total }
    }
}
