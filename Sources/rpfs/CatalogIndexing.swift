#if canImport(Glibc)
import Glibc
#endif
import Catalog
import PointNamespace
import RecoveryPoint

/// Building a catalog as the commands do it: with a count of entries on a terminal.
enum CatalogIndexing {
    /// Catalogs the tree `open` opens; a point flagged as guest-encrypted, whose files may not
    /// be opened at all, gets a catalog that says so and holds nothing else.
    static func build(_ point: OpenedPoint, open: () throws -> PointNamespace) throws -> CatalogBuilder.Summary {
        do {
            return try build(try open())
        } catch let NamespaceError.refused(refusal) {
            guard case .guestEncryptedPoint = refusal.cause else { throw NamespaceError.refused(refusal) }
            return try CatalogBuilder.buildRefused(point, reason: refusal.description)
        }
    }

    private static func build(_ namespace: PointNamespace) throws -> CatalogBuilder.Summary {
        let interactive = Terminal.isInteractive
        let summary = try CatalogBuilder.build(namespace) { count in
            if interactive { Terminal.write("\rindex: \(count) entries\u{1B}[K", to: STDERR_FILENO) }
        }
        if interactive { Terminal.write("\r\u{1B}[K", to: STDERR_FILENO) }
        return summary
    }
}
