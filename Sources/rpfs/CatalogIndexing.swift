#if canImport(Glibc)
import Glibc
#endif
import Catalog
import PointNamespace

/// Building a catalog as the commands do it: with a count of entries on a terminal.
enum CatalogIndexing {
    static func build(_ namespace: PointNamespace) throws -> CatalogBuilder.Summary {
        let interactive = Terminal.isInteractive
        let summary = try CatalogBuilder.build(namespace) { count in
            if interactive { Terminal.write("\rindex: \(count) entries\u{1B}[K", to: STDERR_FILENO) }
        }
        if interactive { Terminal.write("\r\u{1B}[K", to: STDERR_FILENO) }
        return summary
    }
}
