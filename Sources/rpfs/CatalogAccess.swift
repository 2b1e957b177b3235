import Catalog
import KeyManagement
import PointNamespace
import RecoveryPoint

extension FileAccessOptions {
    /// Point `id` read through its catalog; its tree is opened (through these options) only
    /// when a comparison needs the point's bytes.
    func catalogPoint(_ id: PointID, in store: any ChunkStore, provider: any KeyProvider) throws -> CatalogPoint {
        let point = try OpenedPoint.open(id, in: store, provider: provider)
        let readers = try readers()
        var options = PointNamespace.Options()
        options.skipEncryptedVolumes = skipEncryptedVolumes
        return CatalogPoint(point: point) { () throws(NamespaceError) in
            try PointNamespace.open(id, in: store, provider: provider, options: options, opener: readers.open)
        }
    }
}
