import Foundation
import TestSupport
import Testing

/// The `rpfs` binary built beside this test bundle.
let rpfsBinary: String = {
    let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    return directory.appendingPathComponent("rpfs").path
}()

/// A store and keyring in a temporary directory, driven only through the CLI.
final class CLIFixture: @unchecked Sendable {
    let directory: TemporaryDirectory
    let image: [UInt8]

    init() throws {
        directory = try TemporaryDirectory("rpfs-cli")
        image = ImageBuilder.mixed(chunkSize: 65536, chunks: 12, tail: 100, seed: 3)
        try ImageBuilder.write(image, to: directory.file("disk.img"))
        try expectSuccess(["keys", "new", "backup", "--bits", "2048"])
    }

    var environment: [String: String] {
        ["RPFS_STORE": directory.file("store"), "RPFS_KEYRING": directory.file("keys"), "PATH": "/usr/bin:/bin"]
    }

    func run(_ arguments: [String]) throws -> CommandResult {
        try Shell.run(rpfsBinary, arguments, environment: environment)
    }

    @discardableResult
    func expectSuccess(_ arguments: [String]) throws -> String {
        let result = try run(arguments)
        #expect(result.status == 0, "rpfs \(arguments): \(result.stderr)")
        return result.stdout
    }

    func create(_ extra: [String] = []) throws -> String {
        let out = try expectSuccess(["create", "--kek", "backup", "--disk", directory.file("disk.img"), "--chunk-size", "64K"] + extra)
        return String(out.split(separator: "\n").last ?? "")
    }
}

@Suite struct CLITests {
    @Test func createPrintsOnlyTheIDWhenNotOnATerminal() throws {
        let fixture = try CLIFixture()
        let result = try fixture.run(["create", "--kek", "backup", "--disk", fixture.directory.file("disk.img"), "--name", "web01"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.count == 32)
        #expect(lines.first?.allSatisfy(\.isHexDigit) == true)
    }

    @Test func pointsListsWithoutAKeyAndAsJSON() throws {
        let fixture = try CLIFixture()
        let id = try fixture.create(["--name", "web01", "--guest-encryption", "ade-dmcrypt"])
        // No keyring at all: listing needs none.
        let result = try Shell.run(rpfsBinary, ["points", "--store", fixture.directory.file("store"), "--json"], environment: [:])
        #expect(result.status == 0, "\(result.stderr)")
        let points = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        let point = try #require(points.first)
        #expect(point["id"] as? String == id)
        #expect(point["name"] as? String == "web01")
        #expect(point["guest_encryption"] as? String == "ade-dmcrypt")
        let disks = try #require(point["disks"] as? [[String: Any]])
        #expect(disks.first?["name"] as? String == "disk0")
        #expect(disks.first?["size"] as? Int == fixture.image.count)
        #expect(disks.first?["chunk_size"] as? Int == 65536)
        let keys = try #require(point["wrapped_keys"] as? [[String: Any]])
        #expect(keys.first?["kek"] as? String == "backup/1")
        #expect(keys.first?["algorithm"] as? String == "RSA-OAEP-SHA256")
    }

    @Test func inspectShowsKeyStateAndAcceptsAPrefix() throws {
        let fixture = try CLIFixture()
        let id = try fixture.create()
        let text = try fixture.expectSuccess(["inspect", String(id.prefix(8))])
        #expect(text.contains("point        \(id)"))
        #expect(text.contains("backup/1 (RSA-OAEP-SHA256): available"))
        #expect(text.contains("metadata     authenticated"))
        #expect(text.contains("disk disk0"))
    }

    @Test func exitCodesFollowTheREADME() throws {
        let fixture = try CLIFixture()
        let id = try fixture.create()
        // 2: usage.
        #expect(try fixture.run(["create", "--kek", "backup"]).status == 2)
        #expect(try fixture.run(["frobnicate"]).status == 2)
        #expect(try fixture.run(["create", "--kek", "backup", "--disk", "x", "--chunk-size", "3M"]).status == 2)
        // 6: not found.
        #expect(try fixture.run(["inspect", "ffffffff"]).status == 6)
        #expect(try fixture.run(["points", "--store", fixture.directory.file("nowhere")]).status == 6)
        #expect(try fixture.run(["create", "--kek", "backup", "--disk", fixture.directory.file("no-such.img")]).status == 6)
        // 4: key error, and the message names the missing version.
        try FileManager.default.removeItem(atPath: fixture.directory.file("keys/backup/1.pem"))
        try fixture.expectSuccess(["keys", "new", "backup", "--bits", "2048"])
        let missing = try fixture.run(["verify", id])
        #expect(missing.status == 4)
        #expect(missing.stderr.contains("backup/1"))
        #expect(missing.stderr.contains("versions 2"))
    }

    @Test func inspectStillShowsThePointWhenTheKeyIsGone() throws {
        let fixture = try CLIFixture()
        let id = try fixture.create()
        try FileManager.default.removeItem(atPath: fixture.directory.file("keys/backup"))
        let result = try fixture.run(["inspect", id])
        #expect(result.status == 4)
        #expect(result.stdout.contains("backup/1 (RSA-OAEP-SHA256): missing"))
        #expect(result.stdout.contains("disk disk0"))
        #expect(result.stderr.contains("backup"))
    }

    @Test func verifyListsDamagedChunksWithTheirByteRanges() throws {
        let fixture = try CLIFixture()
        let id = try fixture.create()
        #expect(try fixture.expectSuccess(["verify", id]).contains("all authentic"))
        // Damage one chunk object and delete another.
        let chunks = try FileManager.default.subpathsOfDirectory(atPath: fixture.directory.file("store/chunks"))
            .filter { $0.count == 67 }.sorted()
        let damaged = fixture.directory.file("store/chunks/\(chunks[0])")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: damaged))
        bytes[40] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: damaged))
        try FileManager.default.removeItem(atPath: fixture.directory.file("store/chunks/\(chunks[1])"))
        let result = try fixture.run(["verify", id])
        #expect(result.status == 5)
        let lines = result.stdout.split(separator: "\n").filter { $0.hasPrefix("DAMAGED") }
        #expect(lines.count >= 2, "\(result.stdout)")
        #expect(lines.contains { $0.contains("failed authentication") && $0.contains("bytes ") })
        #expect(lines.contains { $0.contains("missing") })
        #expect(result.stderr.contains("damaged or missing"))
    }

    @Test func rewrapThenDeleteTheOldVersion() throws {
        let fixture = try CLIFixture()
        let id = try fixture.create()
        try fixture.expectSuccess(["keys", "new", "backup", "--bits", "2048"])
        let out = try fixture.expectSuccess(["rewrap", id, "--kek", "backup"])
        #expect(out.contains("now wrapped under backup/2"))
        try FileManager.default.removeItem(atPath: fixture.directory.file("keys/backup/1.pem"))
        #expect(try fixture.expectSuccess(["inspect", id]).contains("unwrapped    with backup/2"))
        #expect(try fixture.expectSuccess(["verify", id]).contains("all authentic"))
    }

    @Test func keyringPermissionDeniedIsAKeyError() throws {
        let fixture = try CLIFixture()
        let id = try fixture.create()
        guard getuid() == 0 else { return }
        // As an unprivileged user the root-owned 0700 keyring is unreadable.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fixture.directory.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fixture.directory.file("store"))
        let result = try Shell.run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", rpfsBinary, "inspect", id,
                                              "--store", fixture.directory.file("store"), "--keyring", fixture.directory.file("keys")])
        #expect(result.status == 4, "\(result.stderr)")
        #expect(result.stderr.contains("permission denied"))
    }

    @Test func keysListShowsCurrentVersion() throws {
        let fixture = try CLIFixture()
        try fixture.expectSuccess(["keys", "new", "backup", "--bits", "2048"])
        try fixture.expectSuccess(["keys", "new", "archive", "--bits", "2048"])
        let text = try fixture.expectSuccess(["keys", "list"])
        #expect(text.contains("backup\tversions 1, 2 (current: 2)"))
        #expect(text.contains("archive\tversions 1 (current: 1)"))
        #expect(try fixture.run(["keys", "new", "../evil"]).status == 2)
    }

    /// SIGKILL stands for a crash (and for Ctrl-C: the test runner's children may inherit an
    /// ignored SIGINT). The point file is published last, by rename, so nothing half-written shows.
    @Test func killedCreateLeavesNoPoint() throws {
        let fixture = try CLIFixture()
        // 512 MiB of incompressible, non-zero data: long enough to interrupt mid-write.
        let big = fixture.directory.file("big.img")
        let generate = try Shell.run("/bin/sh", ["-c", "openssl enc -aes-128-ctr -pass pass:rpfs -nosalt -pbkdf2 < /dev/zero 2>/dev/null | head -c 536870912 > \(big)"])
        #expect(generate.status == 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: rpfsBinary)
        process.arguments = ["create", "--kek", "backup", "--disk", big]
        process.environment = fixture.environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Kill it once chunk objects are being written.
        let chunks = fixture.directory.file("store/chunks")
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, process.isRunning,
              ((try? FileManager.default.subpathsOfDirectory(atPath: chunks)) ?? []).filter({ $0.count == 67 }).count < 3 {
            usleep(2000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try #require(process.terminationReason == .uncaughtSignal, "create finished before it could be killed")
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.directory.file("store/points")).isEmpty)
        let listed = try fixture.run(["points"])
        #expect(listed.status == 0)
        #expect(listed.stdout.isEmpty)
        // The store stays usable: the next create succeeds and verifies.
        let id = try fixture.create()
        #expect(try fixture.expectSuccess(["verify", id]).contains("all authentic"))
    }
}
