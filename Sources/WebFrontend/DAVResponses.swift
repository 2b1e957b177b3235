import VolumeModel

/// The WebDAV side (RFC 4918, class 1, read-only): what OPTIONS announces and what PROPFIND
/// answers. Collections are directories; members are regular files. Symlinks, FIFOs, device
/// nodes and sockets have no WebDAV form and are not listed (the tar of their folder has them).
enum DAVResponses {
    static let allowed = "OPTIONS, GET, HEAD, PROPFIND"
    /// Methods that would change something: a point is read-only.
    static let writeMethods: Set<String> = ["PUT", "DELETE", "MKCOL", "COPY", "MOVE", "PROPPATCH", "LOCK", "UNLOCK", "POST", "PATCH"]

    static func isListed(_ kind: NodeKind) -> Bool { kind == .directory || kind == .regular }

    /// A 207 Multi-Status body with one response per item.
    static func multistatus(_ items: [(item: PointTree.Item, etag: String)]) -> String {
        var xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:multistatus xmlns:D=\"DAV:\">\n"
        for (item, etag) in items {
            let attributes = item.attributes
            let collection = attributes.kind == .directory
            let name = item.components.last.map(WebText.escaped) ?? ""
            xml += "<D:response><D:href>\(WebText.href("dav", item.components, collection: collection))</D:href>"
            xml += "<D:propstat><D:prop><D:displayname>\(name)</D:displayname>"
            xml += collection ? "<D:resourcetype><D:collection/></D:resourcetype>" : "<D:resourcetype/>"
            if !collection {
                xml += "<D:getcontentlength>\(attributes.size)</D:getcontentlength>"
                xml += "<D:getcontenttype>application/octet-stream</D:getcontenttype>"
                xml += "<D:getetag>\(WebText.escaped(etag))</D:getetag>"
            }
            xml += "<D:getlastmodified>\(WebText.httpDate(attributes.modified.seconds))</D:getlastmodified>"
            xml += "<D:creationdate>\(WebText.isoDate((attributes.created ?? attributes.changed).seconds))</D:creationdate>"
            xml += "</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>\n"
        }
        return xml + "</D:multistatus>\n"
    }

    /// The body of a 403 for Depth: infinity (RFC 4918 9.1: propfind-finite-depth).
    static let finiteDepth = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error xmlns:D=\"DAV:\"><D:propfind-finite-depth/></D:error>\n"
}
