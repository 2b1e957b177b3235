import Cryptography
import Dispatch

/// SHA-256 of a file's contents as a writer produces them. A large file is hashed on its own
/// thread while the writer reads and writes the next piece: SHA-256 on one core is about as
/// slow as decrypting and writing together (docs/RESTORE.md). Small files
/// are hashed in line, where handing work to another thread would cost more than it saves.
final class ContentHasher: @unchecked Sendable {
    // @unchecked: `hasher` is used only on `queue` when `background`, else only by the one
    // writer thread; pieces are handed over with a group the writer waits on before reuse.
    private let hasher: SHA256Hasher
    private let queue: DispatchQueue?

    init(background: Bool) throws(RestoreError) {
        do {
            hasher = try SHA256Hasher()
        } catch {
            throw .unsupported("SHA-256 unavailable: \(error)")
        }
        queue = background ? DispatchQueue(label: "rpfs.restore.sha256") : nil
    }

    /// Hashes `piece`; in the background, `group` is left once the bytes may be reused.
    func update(_ piece: UnsafeRawBufferPointer, group: DispatchGroup) {
        guard let queue else { return hasher.update(piece) }
        let bytes = Piece(bytes: piece)
        group.enter()
        queue.async { [self] in
            hasher.update(bytes.bytes)
            group.leave()
        }
    }

    /// Hashes `count` zero bytes (a hole), in order with the pieces.
    func updateZeros(_ count: UInt64) {
        guard count > 0 else { return }
        guard let queue else { return hasher.updateZeros(count) }
        queue.async { [self] in hasher.updateZeros(count) }
    }

    func finish() -> [UInt8] {
        guard let queue else { return hasher.finish() }
        return queue.sync { hasher.finish() }
    }

    /// A piece of the writer's buffer, which it does not touch until the group says so.
    private struct Piece: @unchecked Sendable {
        let bytes: UnsafeRawBufferPointer
    }
}
