import Foundation
import TestSupport
import Testing

/// A runtime error is one `rpfs: error: …` line on stderr and the documented exit status;
/// a file named on the command line that does not exist is status 6.
@Suite struct ErrorReportTests {
    private func expectOneErrorLine(_ result: CommandResult, status: Int32, mentioning text: String) {
        #expect(result.status == status, "\(result.stderr)")
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
        #expect(lines.count == 1, "stderr: \(result.stderr)")
        #expect(lines.first?.hasPrefix("rpfs: error: ") == true, "stderr: \(result.stderr)")
        #expect(result.stderr.contains(text), "stderr: \(result.stderr)")
    }

    @Test func aMissingPlanFileIsNotFound() throws {
        let fixture = try CLIFixture()
        let id = try fixture.create()
        let result = try fixture.run(["restore", id, "--to", fixture.directory.file("out"), "--plan", fixture.directory.file("missing.json")])
        expectOneErrorLine(result, status: 6, mentioning: "missing.json")
        #expect(!FileManager.default.fileExists(atPath: fixture.directory.file("out")))
    }

    @Test func aMissingImageIsNotFound() throws {
        let fixture = try CLIFixture()
        let result = try fixture.run(["create", "--kek", "backup", "--disk", fixture.directory.file("missing.img")])
        expectOneErrorLine(result, status: 6, mentioning: "missing.img")
    }

    @Test func aMissingMountPointIsNotFoundAndNothingElseIsSaid() throws {
        let fixture = try CLIFixture()
        let id = try fixture.create()
        // In the foreground too: libfuse never gets to say it cannot reach the directory.
        for extra in [[], ["-f"]] {
            let result = try fixture.run(["mount", id, fixture.directory.file("no-such-dir")] + extra)
            expectOneErrorLine(result, status: 6, mentioning: "no-such-dir")
        }
    }

    @Test func aMountPointThatIsAFileIsAUsageError() throws {
        let fixture = try CLIFixture()
        let id = try fixture.create()
        let result = try fixture.run(["mount", id, fixture.directory.file("disk.img")])
        expectOneErrorLine(result, status: 2, mentioning: "not a directory")
    }

    @Test func aMissingStoreIsNotFound() throws {
        let fixture = try CLIFixture()
        let result = try fixture.run(["ls", "0123", "--store", fixture.directory.file("no-store")])
        expectOneErrorLine(result, status: 6, mentioning: "no-store")
    }
}
