import BlockDevices
import Foundation
import KeyManagement
import RecoveryPoint
import TestSupport

/// A store, a keyring and one point made from a mixed image with 64 KiB chunks.
final class PointFixture: @unchecked Sendable {
    static let chunkSize = 64 * 1024
    let directory: TemporaryDirectory
    let store: DirectoryStore
    let keyring: KeyringDirectory
    let image: [UInt8]
    let imagePath: String
    let id: PointID

    init(chunks: Int = 24, tail: Int = 12_345, seed: UInt64 = 7, keyVersions: Int = 1, in parent: String? = nil) throws {
        directory = try TemporaryDirectory(in: parent)
        keyring = try TestKeys.keyring(in: directory, versions: keyVersions)
        store = try DirectoryStore.openOrCreate(path: directory.file("store"))
        image = ImageBuilder.mixed(chunkSize: Self.chunkSize, chunks: chunks, tail: tail, seed: seed)
        imagePath = directory.file("disk.img")
        try ImageBuilder.write(image, to: imagePath)
        id = try Self.makePoint(from: [imagePath], store: store, keyring: keyring)
    }

    private static func makePoint(from images: [String], store: DirectoryStore, keyring: KeyringDirectory) throws -> PointID {
        var request = PointRequest(images: images, kek: try KEKReference(parsing: "backup"))
        request.chunkSizeLog2 = 16
        return try PointWriter.create(request, store: store, provider: keyring).0
    }

    func makePoint(from images: [String]) throws -> PointID {
        try Self.makePoint(from: images, store: store, keyring: keyring)
    }

    func open(_ point: PointID? = nil) throws -> OpenedPoint {
        try OpenedPoint.open(point ?? id, in: store, provider: keyring)
    }

    var pointPath: String { directory.file("store/points/\(id).point") }

    func chunkPath(_ chunk: ChunkID) -> String {
        directory.file("store/chunks/\(chunk.description.prefix(2))/\(chunk)")
    }

    func chunkFiles() throws -> [String] {
        let root = directory.file("store/chunks")
        return try FileManager.default.subpathsOfDirectory(atPath: root).filter { $0.count == 67 }
    }
}

extension BlockDevice {
    func readAll(in pieces: Int = 100_000) throws -> [UInt8] {
        var out = [UInt8]()
        var offset: UInt64 = 0
        while offset < size {
            let n = Int(min(UInt64(pieces), size - offset))
            out += try read(at: offset, count: n)
            offset += UInt64(n)
        }
        return out
    }
}
