import Foundation
import KeyManagement
import TestSupport

/// A SoftHSM2 installation of one test's own: config, token directory, an initialised token
/// `rpfs-test` (user PIN 1234) and a private copy of the module.
///
/// SoftHSM reads SOFTHSM2_CONF once, in C_Initialize, and a process can initialise a module
/// only once; each test therefore loads its own copy of libsofthsm2.so (a distinct file is a
/// distinct library for dlopen), so tests run in parallel without seeing each other's tokens.
final class SoftHSM: @unchecked Sendable {
    static let systemModule = "/usr/lib/softhsm/libsofthsm2.so"
    /// setenv is process-wide: one provider at a time reads it during C_Initialize.
    private static let environmentLock = NSLock()

    let directory: TemporaryDirectory
    let module: String
    let config: String
    let pinFile: String
    let token = "rpfs-test"
    let pin = "1234"

    init() throws {
        directory = try TemporaryDirectory("rpfs-softhsm")
        try FileManager.default.createDirectory(atPath: directory.file("tokens"), withIntermediateDirectories: true)
        config = directory.file("softhsm2.conf")
        try "directories.tokendir = \(directory.file("tokens"))\nobjectstore.backend = file\nlog.level = ERROR\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        module = directory.file("libsofthsm2.so")
        // The system path is a symlink: copy the library itself.
        let library = URL(fileURLWithPath: Self.systemModule).resolvingSymlinksInPath().path
        try FileManager.default.copyItem(atPath: library, toPath: module)
        pinFile = try directory.write("pin", Array("\(pin)\n".utf8))
        try softhsm(["--init-token", "--free", "--label", token, "--pin", pin, "--so-pin", "5678"])
    }

    var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["SOFTHSM2_CONF"] = config
        return environment
    }

    @discardableResult
    func softhsm(_ arguments: [String]) throws -> String {
        try run("softhsm2-util", arguments)
    }

    @discardableResult
    func pkcs11Tool(_ arguments: [String]) throws -> String {
        try run("pkcs11-tool", ["--module", Self.systemModule, "--token-label", token, "--login", "--pin", pin] + arguments)
    }

    private func run(_ tool: String, _ arguments: [String]) throws -> String {
        let result = try Shell.run(tool, arguments, environment: environment)
        guard result.status == 0 else {
            throw TestFailure("\(tool) \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)\(result.stdout)")
        }
        return result.stdout + result.stderr
    }

    /// Imports a PEM private key (softhsm2-util stores its public key object too).
    func importKey(_ pem: String, label: String, id: String) throws {
        try softhsm(["--import", pem, "--token", token, "--label", label, "--id", id, "--pin", pin])
    }

    func provider(token: String? = nil, pinFile: String? = nil) throws -> PKCS11Provider {
        Self.environmentLock.lock()
        defer { Self.environmentLock.unlock() }
        setenv("SOFTHSM2_CONF", config, 1)
        return try PKCS11Provider(module: module, tokenLabel: token ?? self.token, pinFile: pinFile ?? self.pinFile)
    }
}
