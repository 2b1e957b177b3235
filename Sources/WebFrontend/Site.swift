import Archives
import HTTPTypes
import Hummingbird
import NIOCore
import PointNamespace
import Synchronization
import VolumeModel

/// Every request's way through: limits, credentials, the target taken apart (`WebPath`),
/// then the page, WebDAV, or an archive. Blocking work runs on the `BlockingPool`.
final class Site: Sendable {
    static let readPiece = 256 << 10
    /// The most of a PROPFIND body read (it is not needed: every property is always given).
    static let maxRequestBody = 64 << 10

    let tree: PointTree
    let configuration: ServeConfiguration
    let users: Htpasswd?
    let pool: BlockingPool
    private let active = Atomic<Int>(0)
    private let archives = Atomic<Int>(0)

    init(tree: PointTree, configuration: ServeConfiguration, users: Htpasswd?) {
        self.tree = tree
        self.configuration = configuration
        self.users = users
        pool = BlockingPool(width: configuration.readers)
    }

    func respond(to request: Request) async -> Response {
        let target = request.head.path ?? "/"
        let response = await answer(request, target: target)
        configuration.log?("\(request.method.rawValue) \(Self.printable(target)) \(response.status.code)")
        return response
    }

    private func answer(_ request: Request, target: String) async -> Response {
        if let users {
            let authorization = request.headers[.authorization]
            let accepted = (try? await pool.run { users.accepts(authorization) }) ?? false
            guard accepted else {
                return Self.text(.unauthorized, "credentials needed\n", headers: [.wwwAuthenticate: "Basic realm=\"rpfs\", charset=\"UTF-8\""])
            }
        }
        let method = request.method.rawValue
        if DAVResponses.writeMethods.contains(method) {
            return Self.text(.methodNotAllowed, "a recovery point is read-only\n", headers: [.allow: DAVResponses.allowed])
        }
        let path: WebPath
        do {
            path = try WebPath(target: target)
        } catch {
            switch error {
            case .notFound: return Self.text(.notFound, "no such page\n")
            case let .invalid(why): return Self.text(.badRequest, "refused: \(why)\n")
            }
        }
        if method == "OPTIONS" {
            return Self.text(.ok, "", headers: [HTTPField.Name("DAV")!: "1", .allow: DAVResponses.allowed, HTTPField.Name("MS-Author-Via")!: "DAV"])
        }
        guard ["GET", "HEAD", "PROPFIND"].contains(method), method != "PROPFIND" || path.view == .dav else {
            return Self.text(.methodNotAllowed, "\(method) is not answered here\n", headers: [.allow: DAVResponses.allowed])
        }
        guard active.wrappingAdd(1, ordering: .relaxed).newValue <= configuration.maxRequests else {
            active.wrappingSubtract(1, ordering: .relaxed)
            return Self.text(.serviceUnavailable, "busy: try again\n", headers: [.retryAfter: "5"])
        }
        // A streamed body holds its slot until its last byte; everything else gives it back here.
        var streaming = false
        defer { if !streaming { active.wrappingSubtract(1, ordering: .relaxed) } }
        let item: PointTree.Item
        do {
            item = try await pool.run { [tree] in try tree.item(path.components) }
        } catch {
            return Self.failure(error)
        }
        switch (path.view, method) {
        case (.dav, "PROPFIND"):
            return await propfind(item, request)
        case (.zip, _), (.tar, _):
            let response = archive(path.view == .zip ? .zip : .tar, item, head: method == "HEAD")
            streaming = method != "HEAD" && response.status == .ok
            return response
        case (_, _) where item.attributes.kind == .directory:
            return await page(item, head: method == "HEAD")
        case (_, _) where item.attributes.kind == .regular:
            let response = file(item, request, download: path.query == "download")
            streaming = method != "HEAD" && (response.status == .ok || response.status == .partialContent)
            return response
        default:
            return Self.text(.notFound, "\(item.attributes.kind.rawValue): not served on its own (the tar of its folder has it)\n")
        }
    }

    // MARK: Views

    private func page(_ item: PointTree.Item, head: Bool) async -> Response {
        do {
            let html = try await pool.run { [tree] in
                let children = try tree.children(of: item)
                var reasons: [FileName: String] = [:]
                for child in children { reasons[child.name] = tree.unavailableReason(child.item) }
                return BrowserPage.html(point: tree.namespace.pointID, folder: item, children: children, reasons: reasons)
            }
            var response = Self.text(.ok, head ? "" : html, contentType: "text/html; charset=utf-8",
                                     headers: [.contentSecurityPolicy: BrowserPage.contentSecurityPolicy])
            if head { response.headers[.contentLength] = "\(html.utf8.count)" }
            return response
        } catch {
            return Self.failure(error)
        }
    }

    private func propfind(_ item: PointTree.Item, _ request: Request) async -> Response {
        let depth = request.headers[HTTPField.Name("Depth")!]?.trimmingWhitespace().lowercased() ?? "infinity"
        guard depth != "infinity" else {
            return Self.text(.forbidden, DAVResponses.finiteDepth, contentType: "application/xml; charset=utf-8")
        }
        guard depth == "0" || depth == "1" else { return Self.text(.badRequest, "Depth is 0, 1 or infinity\n") }
        var request = request
        do {
            _ = try await request.collectBody(upTo: Self.maxRequestBody)
        } catch {
            return Self.text(.contentTooLarge, "PROPFIND bodies are at most \(Self.maxRequestBody) bytes\n")
        }
        guard DAVResponses.isListed(item.attributes.kind) else { return Self.text(.notFound, "not a file or folder\n") }
        do {
            let xml = try await pool.run { [tree] in
                var items = [(item, tree.entityTag(item))]
                if depth == "1", item.attributes.kind == .directory {
                    items += try tree.children(of: item).filter { DAVResponses.isListed($0.item.attributes.kind) }.map { ($0.item, tree.entityTag($0.item)) }
                }
                return DAVResponses.multistatus(items)
            }
            return Self.text(HTTPResponse.Status(code: 207, reasonPhrase: "Multi-Status"), xml, contentType: "application/xml; charset=utf-8")
        } catch {
            return Self.failure(error)
        }
    }

    private func file(_ item: PointTree.Item, _ request: Request, download: Bool) -> Response {
        let attributes = item.attributes
        let etag = tree.entityTag(item)
        var headers: HTTPFields = [.contentType: "application/octet-stream", .eTag: etag,
                                   .lastModified: WebText.httpDate(attributes.modified.seconds), .acceptRanges: "bytes",
                                   .contentSecurityPolicy: "sandbox; default-src 'none'", .xContentTypeOptions: "nosniff"]
        if download, let name = item.components.last { headers[.contentDisposition] = WebText.contentDisposition(name.bytes) }
        let conditions = ConditionalRequest.Headers(ifNoneMatch: request.headers[.ifNoneMatch], ifModifiedSince: request.headers[.ifModifiedSince],
                                                    range: request.headers[.range], ifRange: request.headers[.ifRange])
        let size = attributes.size
        let span: ClosedRange<UInt64>?
        var status = HTTPResponse.Status.ok
        switch ConditionalRequest.evaluate(conditions, etag: etag, modified: attributes.modified.seconds, size: size) {
        case .notModified:
            headers[.contentType] = nil
            return Response(status: .notModified, headers: headers)
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(size)"
            return Self.text(.rangeNotSatisfiable, "", headers: headers)
        case .whole:
            span = size == 0 ? nil : 0 ... size - 1
        case let .range(range):
            span = range
            status = .partialContent
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(size)"
        }
        let length = span.map { $0.upperBound - $0.lowerBound + 1 } ?? 0
        headers[.contentLength] = "\(length)"
        guard request.method != .head, let span else { return Response(status: status, headers: headers, body: ResponseBody()) }
        return Response(status: status, headers: headers, body: ResponseBody(contentLength: Int(length)) { [self] writer in
            defer { active.wrappingSubtract(1, ordering: .relaxed) }
            var offset = span.lowerBound
            while offset <= span.upperBound {
                let piece = Int(min(UInt64(Self.readPiece), span.upperBound - offset + 1))
                let at = offset
                let buffer = try await pool.run { [tree] in try Self.read(tree, item, at: at, count: piece) }
                try await writer.write(buffer)
                offset += UInt64(piece)
            }
            try await writer.finish(nil)
        })
    }

    private func archive(_ format: ArchiveFormat, _ item: PointTree.Item, head: Bool) -> Response {
        let name = item.components.last?.bytes
        let fileName = (name ?? Array("point-\(tree.namespace.pointID.prefix(8))".utf8)) + Array(".\(format.fileExtension)".utf8)
        let headers: HTTPFields = [.contentType: format.mediaType, .contentDisposition: WebText.contentDisposition(fileName),
                                   .contentSecurityPolicy: "sandbox; default-src 'none'", .xContentTypeOptions: "nosniff"]
        guard !head else { return Response(status: .ok, headers: headers) }
        guard archives.wrappingAdd(1, ordering: .relaxed).newValue <= configuration.maxArchives else {
            archives.wrappingSubtract(1, ordering: .relaxed)
            return Self.text(.serviceUnavailable, "busy making archives: try again\n", headers: [.retryAfter: "30"])
        }
        let namespace = tree.namespace
        return Response(status: .ok, headers: headers, body: ResponseBody { [self] writer in
            defer {
                archives.wrappingSubtract(1, ordering: .relaxed)
                active.wrappingSubtract(1, ordering: .relaxed)
            }
            let stream = ArchiveStream()
            defer { stream.stop() }
            stream.start { sink throws(ArchiveError) in
                _ = try Archive.write(format, from: item.node, item.attributes, name: name, path: item.path, of: namespace, to: sink)
            }
            // An error ends the body without its last chunk: the client sees a cut transfer,
            // and the archive lacks its end records (docs/ARCHIVES.md, Errors).
            for try await buffer in stream.buffers {
                try await writer.write(buffer)
                stream.taken()
            }
            try await writer.finish(nil)
        })
    }

    // MARK: Helpers

    /// `count` bytes of a file from `offset`; fewer is corruption (the file ended early).
    private static func read(_ tree: PointTree, _ item: PointTree.Item, at offset: UInt64, count: Int) throws -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        let got = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
            let target = UnsafeMutableRawBufferPointer(rebasing: raw[0 ..< count])
            return try tree.namespace.withVolume(item.node, path: item.path) { volume, inner throws(VolumeError) in
                try volume.read(inner, at: offset, into: target)
            }
        }
        guard got == count else {
            throw NamespaceError.volume(path: item.path, .corrupt(volume: item.path, structure: "file data", at: nil,
                                                                 problem: "ended at byte \(offset + UInt64(got)) of \(item.attributes.size)"))
        }
        return buffer
    }

    static func text(_ status: HTTPResponse.Status, _ body: String, contentType: String = "text/plain; charset=utf-8",
                     headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = contentType
        fields[.xContentTypeOptions] = "nosniff"
        fields[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    /// The status for what the point could not give: missing is 404, refused or unreadable
    /// 403, damage and corruption 500; the body says which.
    static func failure(_ error: any Error) -> Response {
        guard let error = error as? NamespaceError else { return text(.internalServerError, "\(error)\n") }
        let status: HTTPResponse.Status = switch error {
        case .notFound, .notADirectory, .volume(_, .notFound), .volume(_, .notADirectory): .notFound
        case .invalidPath: .badRequest
        case .refused, .volumeUnavailable, .volume(_, .refused): .forbidden
        default: .internalServerError
        }
        return text(status, "\(error)\n")
    }

    /// A request target for the log: what is not printable ASCII as '?', so no line can be forged.
    static func printable(_ target: String) -> String {
        String(decoding: target.utf8.map { (0x21 ..< 0x7F).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
}
