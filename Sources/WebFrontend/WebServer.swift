import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import PointNamespace

/// `rpfs serve`: the point over HTTP(S) until SIGINT or SIGTERM (docs/SERVE.md).
public enum WebServer {
    /// Serves until a signal stops it; `onStart` gets the URL once the socket listens.
    public static func run(_ namespace: PointNamespace, _ configuration: ServeConfiguration,
                           onStart: @escaping @Sendable (String) -> Void) async throws {
        try configuration.check()
        let users = try configuration.htpasswd.map { (text, file) throws(ServeError) in try Htpasswd(text: text, file: file) }
        let site = Site(tree: PointTree(namespace: namespace), configuration: configuration, users: users)
        let http1 = HTTP1Channel.Configuration(idleTimeout: .nanoseconds(Int64(configuration.idleTimeout.components.seconds) * 1_000_000_000))
        let server: HTTPServerBuilder
        if let certificateFile = configuration.certificateFile, let keyFile = configuration.keyFile {
            let tls: TLSConfiguration
            do {
                let chain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { NIOSSLCertificateSource.certificate($0) }
                let key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
                tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            } catch {
                throw ServeError.configuration("reading \(certificateFile) and \(keyFile): \(error)")
            }
            server = try .tls(.http1(configuration: http1), tlsConfiguration: tls)
        } else {
            server = .http1(configuration: http1)
        }
        var logger = Logger(label: "rpfs-serve")
        logger.logLevel = .critical
        let app = Application(
            responder: SiteResponder(site: site), server: server,
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port),
                                                    availableConnectionsDelegate: .maximum(configuration.maxConnections, logger: logger)),
            onServerRunning: { channel in onStart(configuration.url(port: channel.localAddress?.port ?? configuration.port)) },
            logger: logger)
        try await app.runService()
    }
}

struct SiteResponder: HTTPResponder {
    typealias Context = BasicRequestContext
    let site: Site

    func respond(to request: Request, context: Context) async throws -> Response {
        await site.respond(to: request)
    }
}
