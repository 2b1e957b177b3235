import Foundation
import TestSupport
import Testing

/// File names and point names come from the backup, so a hostile image chooses them. Printed
/// raw, they would drive the terminal of the person restoring from it.
@Suite struct TerminalOutputTests {
    /// ESC ] 0 ; ... BEL retitles the window, ESC [ 2 J clears the screen, and U+009B is the
    /// one-character CSI that UTF-8 terminals obey too.
    static let hostile = "evil\u{1B}]0;owned\u{07}\u{1B}[2J\u{9B}31m.txt"
    static let shown = "evil?]0;owned??[2J?31m.txt"

    /// A point of a whole-disk ext4 volume holding one file with the hostile name, and itself
    /// named with an escape sequence.
    static func hostilePoint() throws -> (CLIFixture, String) {
        let cli = try CLIFixture()
        let source = cli.directory.file("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try "x\n".write(toFile: "\(source)/\(hostile)", atomically: false, encoding: .utf8)
        try Shell.check("mke2fs", ["-q", "-F", "-t", "ext4", "-d", source, cli.directory.file("disk.img"), "8M"])
        return (cli, try cli.create(["--name", "web\u{1B}[2J01"]))
    }

    static func drivesATerminal(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" || $0 == "\u{9B}" }
    }

    /// What rpfs prints on a terminal, through script(1) as a person would see it.
    static func onATerminal(_ cli: CLIFixture, _ arguments: [String]) throws -> CommandResult {
        let command = ([rpfsBinary] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        return try Shell.run("/usr/bin/script", ["-qec", command.joined(separator: " "), "/dev/null"], environment: cli.environment)
    }

    @Test func namesCannotDriveATerminal() throws {
        let (cli, id) = try Self.hostilePoint()
        let listing = try Self.onATerminal(cli, ["ls", "-l", "\(id):/disk0/volume"])
        #expect(listing.status == 0, "\(listing.stdout)")
        #expect(listing.stdout.contains(Self.shown), "the name shown with ? for its controls: \(listing.stdout)")
        let points = try Self.onATerminal(cli, ["points"])
        #expect(points.stdout.contains("web?[2J01"), "\(points.stdout)")
        let inspect = try Self.onATerminal(cli, ["inspect", id])
        #expect(inspect.stdout.contains("name         web?[2J01"), "\(inspect.stdout)")
        // An error message that names a path from the backup goes to stderr, also the terminal here.
        let missing = try Self.onATerminal(cli, ["ls", "\(id):/disk0/volume/\(Self.hostile)/missing"])
        #expect(missing.status != 0)
        #expect(missing.stdout.contains("rpfs: error:") && missing.stdout.contains(Self.shown), "\(missing.stdout)")
        for output in [listing, points, inspect, missing] {
            #expect(!Self.drivesATerminal(output.stdout), "\(output.stdout.unicodeScalars.map { $0.escaped(asASCII: true) }.joined())")
        }
    }

    @Test func pipedOutputKeepsExactNamesAndMessagesStayVisible() throws {
        let (cli, id) = try Self.hostilePoint()
        // A script reading stdout gets the name's exact text, as from ls(1) into a pipe.
        let listing = try cli.run(["ls", "\(id):/disk0/volume"])
        #expect(listing.status == 0, "\(listing.stderr)")
        #expect(listing.stdout.split(separator: "\n").map(String.init).contains(Self.hostile))
        // JSON escapes every control, C1 included (JSONEncoder leaves those raw), and decodes
        // to the exact name.
        let json = try cli.run(["ls", "--json", "\(id):/disk0/volume"])
        #expect(json.status == 0, "\(json.stderr)")
        #expect(!Self.drivesATerminal(json.stdout), "\(json.stdout)")
        let records = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(records.contains { $0["name"] as? String == Self.hostile }, "\(records)")
        // Messages are for people even when redirected to a log: never raw.
        let missing = try cli.run(["ls", "\(id):/disk0/volume/\(Self.hostile)/missing"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains(Self.shown), "\(missing.stderr)")
        #expect(!Self.drivesATerminal(missing.stderr))
    }
}
