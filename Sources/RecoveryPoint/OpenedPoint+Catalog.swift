import Cryptography

extension OpenedPoint {
    /// The point's key domain: chunk ids and fingerprints compare only within one.
    public var domain: [UInt8] { keys.domain }

    /// A keyed hash of `bytes` (small file contents, attributes), comparable between points
    /// of one key domain and meaningless without the DEK.
    public func fingerprint(_ bytes: [UInt8]) throws(RecoveryPointError) -> [UInt8] {
        do {
            return try bytes.withUnsafeBytes { buffer in
                Result { () throws(CryptoError) in try keys.fingerprint(of: buffer) }
            }.get()
        } catch {
            throw .crypto(error)
        }
    }

    /// Stores a finished catalog beside the point, replacing any earlier one.
    public func storeCatalog(_ writer: CatalogObject.Writer) throws(RecoveryPointError) {
        try store.writeCatalog(header.id, bytes: try writer.object())
    }

    /// The point's catalog, fetched and authenticated whole before any record is used; a
    /// store's local copy that fails is dropped and fetched again from the store.
    public func catalog() throws(RecoveryPointError) -> CatalogObject.Reader {
        do {
            return try authenticatedCatalog()
        } catch .catalogDamaged where store.discardCachedCatalog(header.id) {
            return try authenticatedCatalog()
        }
    }

    private func authenticatedCatalog() throws(RecoveryPointError) -> CatalogObject.Reader {
        let object = try store.readCatalog(header.id)
        var check = try CatalogObject.Reader(object: object, point: self)
        while try check.next() != nil {}
        return try CatalogObject.Reader(object: object, point: self)
    }
}
