import Foundation
import TestSupport
import Testing

/// `rpfs restore` against real ext4 and NTFS points: plans, globs, reports checked with
/// sha256sum, conflicts, hostile plans and destinations, and a run killed mid-file.
@Suite struct RestoreTests {
    /// Runs restore with a JSON report; returns the exit status, the report and stderr.
    private func restore(_ point: Ext4Point, _ arguments: [String]) throws -> (status: Int32, report: [String: Any], stderr: String) {
        let result = try point.cli.run(["restore", point.id, "--json"] + arguments)
        let report = (try? JSONSerialization.jsonObject(with: Data(result.output))) as? [String: Any] ?? [:]
        return (result.status, report, result.stderr)
    }

    private func records(_ report: [String: Any]) -> [String: [String: Any]] {
        let files = report["files"] as? [[String: Any]] ?? []
        return Dictionary(files.map { ($0["path"] as? String ?? "", $0) }, uniquingKeysWith: { first, _ in first })
    }

    private func plan(_ point: Ext4Point, _ text: String) throws -> String {
        try point.cli.directory.write("plan-\(UUID().uuidString).json", Array(text.utf8))
    }

    private func sha256sum(_ path: String) throws -> String {
        String(try Shell.check("sha256sum", [path]).prefix(64))
    }

    @Test func planWithGlobsDestinationsAndExcludesRestoresWhatItNames() throws {
        let point = try Ext4Point()
        let to = point.cli.directory.file("out")
        let planFile = try plan(point, """
            {"version": 1,
             "entries": [{"path": "/disk0/part1/srv/**"},
                         {"path": "/disk0/part1/home/*/Documents/*.txt", "to": "docs"},
                         "/disk0/part1/etc/host*"],
             "exclude": ["*.img"]}
            """)
        let (status, report, stderr) = try restore(point, ["--to", to, "--plan", planFile])
        #expect(status == 0, "\(stderr)")
        let source = point.source
        let root = "\(to)/disk0/part1"
        // What the plan names is there, byte for byte; what it excludes or does not name is not.
        #expect(FileManager.default.contentsEqual(atPath: "\(root)/srv/data/blob.bin", andPath: "\(source)/srv/data/blob.bin"))
        #expect(FileManager.default.contentsEqual(atPath: "\(to)/docs/alice/Documents/café ☕.txt", andPath: "\(source)/home/alice/Documents/café ☕.txt"))
        #expect(try String(contentsOfFile: "\(root)/etc/hostname", encoding: .utf8) == "web01\n")
        #expect(lstatOf("\(root)/srv/data/sparse.img") == nil, "excluded by *.img")
        #expect(lstatOf("\(root)/etc/empty") == nil, "not named by etc/host*")
        #expect(lstatOf("\(root)/home") == nil, "home went to docs/")
        // Metadata as cp keeps it: hard links, symlinks, FIFOs, modes, owners, xattrs.
        let blob = try #require(lstatOf("\(root)/srv/data/blob.bin"))
        #expect(lstatOf("\(root)/srv/blob-hardlink.bin")?.st_ino == blob.st_ino)
        #expect(blob.st_mode & 0o7777 == 0o4755)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "\(root)/etc/host-link") == "hostname")
        #expect((lstatOf("\(root)/srv/pipe")?.st_mode ?? 0) & S_IFMT == S_IFIFO)
        let alice = try #require(lstatOf("\(to)/docs/alice"))
        #expect(alice.st_uid == 1234 && alice.st_mode & 0o777 == 0o750, "a directory takes its stored metadata")
        #expect(try Shell.check("getfattr", ["--only-values", "-n", "user.comment", "\(root)/etc/hostname"]) == "restore me")
        // The report proves each regular file: its SHA-256 is what sha256sum reads back.
        let byPath = records(report)
        for (path, record) in byPath where record["kind"] as? String == "regular" {
            #expect(record["status"] as? String == "restored", "\(path)")
            let written = "\(to)/\(record["destination"] as? String ?? "")"
            #expect(record["sha256"] as? String == (try sha256sum(written)), "\(path)")
        }
        #expect(byPath["/disk0/part1/srv/data/sparse.img"] == nil)
        #expect(byPath["/disk0/part1/etc/host-link"]?["kind"] as? String == "symlink")
        let totals = try #require(report["totals"] as? [String: Any])
        #expect(totals["failed"] as? Int == 0)
        #expect(totals["restored"] as? Int == byPath.count)
        #expect(report["schema"] as? String == "rpfs-restore-report" && report["version"] as? Int == 2)
        // Keys are snake_case, like every other --json output.
        #expect(report["dry_run"] as? Bool == false)
        #expect(totals["elapsed_seconds"] as? Double != nil && totals["bytes_per_second"] as? Double != nil, "\(totals.keys.sorted())")
        #expect(try entryNames(in: to).allSatisfy { !$0.hasPrefix(".rpfs-") }, "a complete run leaves no journal or temporary files")
    }

    @Test func includeFiltersKeepOnlyMatchingFilesAndTheirParents() throws {
        let point = try Ext4Point()
        let to = point.cli.directory.file("out")
        let planFile = try plan(point, """
            {"version": 1, "entries": [{"path": "/disk0/part1/**", "to": "picked", "include": ["*.txt", "/disk0/part1/etc/hostname"]}]}
            """)
        let (status, report, stderr) = try restore(point, ["--to", to, "--plan", planFile])
        #expect(status == 0, "\(stderr)")
        let files = try FileManager.default.subpathsOfDirectory(atPath: "\(to)/picked").sorted()
        #expect(files == ["etc", "etc/hostname", "home", "home/alice", "home/alice/Documents", "home/alice/Documents/café ☕.txt"], "\(files)")
        #expect(records(report).count == 2)
    }

    @Test func sparseFilesKeepTheirHolesAndHashLikeTheirBytes() throws {
        let point = try Ext4Point()
        let to = point.cli.directory.file("out")
        let (status, report, stderr) = try restore(point, ["--to", to, "--verify", "/disk0/part1/srv/data/sparse.img"])
        #expect(status == 0, "\(stderr)")
        let written = "\(to)/disk0/part1/srv/data/sparse.img"
        #expect(FileManager.default.contentsEqual(atPath: written, andPath: "\(point.source)/srv/data/sparse.img"))
        let info = try #require(lstatOf(written))
        #expect(info.st_size == 8 << 20 && info.st_blocks * 512 < 1 << 20, "holes stay holes")
        let record = try #require(records(report)["/disk0/part1/srv/data/sparse.img"])
        #expect(record["sha256"] as? String == (try sha256sum(written)))
        #expect(record["verified"] as? Bool == true)
    }

    @Test func aTerminalSeesAProgressBarAndOneSummaryLine() throws {
        let point = try Ext4Point()
        let to = point.cli.directory.file("out")
        // script(1) gives rpfs a terminal, as a person running it would.
        let command = "\(rpfsBinary) restore \(point.id) --to \(to) '/disk0/part1/srv/data/*'"
        let result = try Shell.run("/usr/bin/script", ["-qec", command, "/dev/null"], environment: point.cli.environment)
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.contains("restore ["), "a progress bar: \(result.stdout)")
        #expect(result.stdout.contains("2/2 files"), "files done of the total: \(result.stdout)")
        #expect(result.stdout.contains("100% 2/2 files 9.0 MiB/9.0 MiB"), "the bar ends full, holes counted: \(result.stdout)")
        #expect(result.stdout.components(separatedBy: "restored 2 files (9.0 MiB), skipped 0, failed 0 in ").count == 2,
                "one summary line: \(result.stdout)")
    }

    @Test func dryRunListsSizesAndWritesNothing() throws {
        let point = try Ext4Point()
        let to = point.cli.directory.file("out")
        let human = try point.cli.run(["restore", point.id, "--to", to, "--dry-run", "/disk0/part1/srv/data/*"])
        #expect(human.status == 0, "\(human.stderr)")
        #expect(human.stdout.contains("/disk0/part1/srv/data/blob.bin -> disk0/part1/srv/data/blob.bin"))
        #expect(human.stdout.contains("would restore 2 files, 9.0 MiB"))
        let (_, report, _) = try restore(point, ["--to", to, "--dry-run", "/disk0/part1/srv/data/*"])
        #expect(records(report).values.allSatisfy { $0["status"] as? String == "planned" })
        #expect(report["dry_run"] as? Bool == true)
        #expect((report["totals"] as? [String: Any])?["bytes"] as? Int == (1 << 20) + 3 + (8 << 20))
        #expect(lstatOf(to) == nil, "a dry run creates nothing, not even the destination")
    }

    @Test func aPatternThatMatchesNothingIsReportedAndTheRestIsRestored() throws {
        let point = try Ext4Point()
        let to = point.cli.directory.file("out")
        let (status, report, stderr) = try restore(point, ["--to", to, "/disk0/part1/etc/hostname", "/disk0/part1/nowhere/**/*.conf"])
        #expect(status == 7, "partial: \(stderr)")
        #expect(report["unmatched"] as? [String] == ["/disk0/part1/nowhere/**/*.conf"])
        #expect(records(report)["/disk0/part1/etc/hostname"]?["status"] as? String == "restored")
        #expect(stderr.contains("matched nothing"))
    }

    @Test func conflictsAreSkippedOverwrittenOrRenamed() throws {
        let point = try Ext4Point()
        let to = point.cli.directory.file("out")
        let file = "\(to)/disk0/part1/etc/hostname"
        #expect(try restore(point, ["--to", to, "/disk0/part1/etc/hostname"]).status == 0)
        try "changed by hand\n".write(toFile: file, atomically: false, encoding: .utf8)

        let skipped = try restore(point, ["--to", to, "/disk0/part1/etc/hostname"])
        #expect(skipped.status == 0)
        #expect(records(skipped.report)["/disk0/part1/etc/hostname"]?["status"] as? String == "skipped")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "changed by hand\n")

        let renamed = try restore(point, ["--to", to, "--on-conflict", "rename", "/disk0/part1/etc/hostname"])
        #expect(records(renamed.report)["/disk0/part1/etc/hostname"]?["destination"] as? String == "disk0/part1/etc/hostname.restored-1")
        #expect(try String(contentsOfFile: "\(file).restored-1", encoding: .utf8) == "web01\n")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "changed by hand\n")

        let overwritten = try restore(point, ["--to", to, "--on-conflict", "overwrite", "/disk0/part1/etc/hostname"])
        #expect(records(overwritten.report)["/disk0/part1/etc/hostname"]?["status"] as? String == "restored")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "web01\n")
    }

    @Test(arguments: [
        (#"{"version": 1, "entries": [{"path": "/disk0/part1/etc/hostname", "to": "../outside"}]}"#, "may not contain '..'"),
        (#"{"version": 1, "entries": [{"path": "/disk0/part1/etc/hostname", "to": "/tmp"}]}"#, "must be relative"),
        (#"{"version": 1, "entries": [{"path": "disk0/part1/etc/hostname"}]}"#, "not an absolute path"),
        (#"{"version": 1, "entries": [{"path": "/disk0/part1/../../etc/passwd"}]}"#, "contains '..'"),
        (#"{"version": 1, "entries": [{"path": "/disk0/part1/etc/hostname", "exlude": ["*"]}]}"#, "unknown key \"exlude\""),
        (#"{"version": 2, "entries": ["/disk0"]}"#, "version 2 is not supported"),
        (#"{"version": 1, "entries": []}"#, "names nothing"),
        (#"{"version": 1, "entries": ["/disk0/part1/[etc"]}"#, "unclosed ["),
        (#"{"version": 1, "entries": [{"path": "/x"}"#, "not valid JSON"),
        ("/disk0/part1/etc/hostname\nrelative/path\n", "line 2"),
    ])
    func hostilePlansFailBeforeAnythingIsWritten(text: String, message: String) throws {
        let point = try Ext4Point()
        let to = point.cli.directory.file("out")
        let (status, _, stderr) = try restore(point, ["--to", to, "--plan", try plan(point, text)])
        #expect(status == 2, "\(stderr)")
        #expect(stderr.contains(message), "\(stderr)")
        #expect(lstatOf(to) == nil)
    }

    @Test func symlinksInTheDestinationAreNeverFollowedNorThoseTheRestoreMade() throws {
        let point = try Ext4Point()
        let to = point.cli.directory.file("out")
        let outside = point.cli.directory.file("outside")
        try FileManager.default.createDirectory(atPath: to, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: "\(to)/planted", withDestinationPath: outside)
        // The first entry restores a symlink as made/long-link; the second would write through it.
        let planFile = try plan(point, """
            {"version": 1, "entries": [
              {"path": "/disk0/part1/etc/hostname", "to": "planted"},
              {"path": "/disk0/part1/srv/long-link", "to": "made"},
              {"path": "/disk0/part1/etc/empty", "to": "made/long-link"}]}
            """)
        let (status, report, stderr) = try restore(point, ["--to", to, "--plan", planFile])
        #expect(status == 7, "\(stderr)")
        #expect(try entryNames(in: outside).isEmpty, "nothing written through the planted symlink")
        let byPath = records(report)
        #expect(byPath["/disk0/part1/etc/hostname"]?["status"] as? String == "failed")
        #expect(byPath["/disk0/part1/srv/long-link"]?["status"] as? String == "restored")
        #expect(byPath["/disk0/part1/etc/empty"]?["status"] as? String == "failed")
        #expect(lstatOf("\(to)/made/long-link").map { $0.st_mode & S_IFMT == S_IFLNK } == true)
    }

    @Test func hostileNamesInTheDestinationCannotBeGivenByPatterns() throws {
        let point = try Ext4Point()
        let to = point.cli.directory.file("out")
        for pattern in ["/disk0/part1/etc/..", "/disk0/part1/./etc"] {
            let (status, _, stderr) = try restore(point, ["--to", to, pattern])
            #expect(status == 2, "\(pattern): \(stderr)")
        }
        #expect(lstatOf(to) == nil)
    }
}

func entryNames(in directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory)
}

/// Restores that need their own images: a run killed mid-file, NTFS, refusals.
@Suite struct RestoreRecoveryTests {
    @Test func aKilledRunResumesToACompleteVerifiedResult() throws {
        let cli = try CLIFixture()
        let source = cli.directory.file("src")
        try FileManager.default.createDirectory(atPath: "\(source)/data", withIntermediateDirectories: true)
        var random = SeededBytes(seed: 11)
        let names = (1 ... 6).map { "part-\($0).bin" }
        for name in names { try Data(random.bytes(24 << 20)).write(to: URL(fileURLWithPath: "\(source)/data/\(name)")) }
        try Shell.check("mke2fs", ["-q", "-F", "-t", "ext4", "-d", source, cli.directory.file("disk.img"), "200M"])
        let id = try cli.create()
        let to = cli.directory.file("out")
        let restored = "\(to)/disk0/volume/data"

        // Kill the run while a file is half written: after one file is finished and journaled.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: rpfsBinary)
        process.arguments = ["restore", id, "--to", to, "/disk0/volume/data/*"]
        process.environment = cli.environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        var killedMidFile = false
        while process.isRunning, Date() < deadline {
            let present = (try? entryNames(in: restored)) ?? []
            if present.contains(where: { !$0.hasPrefix(".") }), present.contains(where: { $0.hasSuffix(".tmp") }) {
                kill(process.processIdentifier, SIGKILL)
                killedMidFile = true
                break
            }
            usleep(500)
        }
        process.waitUntilExit()
        try #require(killedMidFile, "the run must be caught between files; it finished first")
        #expect(process.terminationReason == .uncaughtSignal)

        // Nothing under a real name is partial; the half-written file exists only as a temporary.
        let after = try entryNames(in: restored)
        let finished = after.filter { !$0.hasPrefix(".") }
        #expect(!finished.isEmpty && finished.count < names.count)
        #expect(after.contains { $0.hasSuffix(".tmp") })
        for name in finished {
            #expect(FileManager.default.contentsEqual(atPath: "\(restored)/\(name)", andPath: "\(source)/data/\(name)"), "\(name)")
        }
        // A finished file damaged since must not count as restored.
        let damaged = try #require(finished.first)
        try Shell.check("truncate", ["-s", "1000", "\(restored)/\(damaged)"])

        let resumed = try cli.run(["restore", id, "--to", to, "--resume", "--json", "/disk0/volume/data/*"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(resumed.output)) as? [String: Any])
        let records = Dictionary(uniqueKeysWithValues: (report["files"] as? [[String: Any]] ?? []).map { ($0["path"] as? String ?? "", $0) })
        for name in names {
            #expect(FileManager.default.contentsEqual(atPath: "\(restored)/\(name)", andPath: "\(source)/data/\(name)"), "\(name)")
            let record = records["/disk0/volume/data/\(name)"]
            let expected = finished.contains(name) && name != damaged ? "skipped" : "restored"
            #expect(record?["status"] as? String == expected, "\(name): \(record ?? [:])")
            #expect(record?["sha256"] as? String == String(try Shell.check("sha256sum", ["\(source)/data/\(name)"]).prefix(64)))
        }
        #expect(try entryNames(in: restored).sorted() == names, "no temporary files or journal remain")
        #expect(try !entryNames(in: to).contains { $0.hasPrefix(".rpfs-") })
    }

    @Test func ntfsPlansMatchWithoutCaseAndKeepStreams() throws {
        let cli = try CLIFixture()
        let directory = cli.directory
        var random = SeededBytes(seed: 5)
        let report = try directory.write("report.bin", random.bytes(200_000))
        let volume = try NTFSImageBuilder.make(in: directory, size: 24 << 20, cluster: 4096, label: "Windows", fill: """
            mkdir -p "$1/Users/Alice/Documents" "$1/Users/Bob/Documents"
            cp '\(report)' "$1/Users/Alice/Documents/Report.BIN"
            printf 'bob\\r\\n' > "$1/Users/Bob/Documents/notes.txt"
            printf 'skip me' > "$1/Users/Bob/Documents/"'~$notes.txt'

            setfattr -n user.Zone.Identifier -v '[ZoneTransfer]' "$1/Users/Alice/Documents/Report.BIN"
            """)
        let disk = try directory.image("ntfs-disk.img", size: 32 << 20)
        try Shell.check("sgdisk", ["-o", "-n1:2048:+24M", "-t1:0700", disk])
        try Shell.check("dd", ["if=\(volume)", "of=\(disk)", "bs=1M", "seek=1", "conv=notrunc", "status=none"])
        let id = String(try cli.expectSuccess(["create", "--kek", "backup", "--disk", disk]).split(separator: "\n").last ?? "")
        let planFile = try directory.write("plan.json", Array("""
            {"version": 1, "entries": [{"path": "/disk0/part1/users/*/DOCUMENTS/**", "to": "docs", "exclude": ["~$*"]},
                                       {"path": "/disk0/part1/USERS/[a-z]*/documents/*.bin", "to": "binaries"}]}
            """.utf8))
        let to = directory.file("out")
        let result = try cli.run(["restore", id, "--to", to, "--plan", planFile])
        #expect(result.status == 0, "\(result.stderr)")
        // Matched without case; written under the names as stored.
        #expect(FileManager.default.contentsEqual(atPath: "\(to)/docs/Alice/Documents/Report.BIN", andPath: report))
        #expect(try String(contentsOfFile: "\(to)/docs/Bob/Documents/notes.txt", encoding: .utf8) == "bob\r\n")
        #expect(lstatOf("\(to)/docs/Bob/Documents/~$notes.txt") == nil)
        #expect(FileManager.default.contentsEqual(atPath: "\(to)/binaries/Alice/Documents/Report.BIN", andPath: report))
        let stream = try Shell.check("getfattr", ["--only-values", "-n", "user.ntfs.stream.Zone.Identifier", "\(to)/docs/Alice/Documents/Report.BIN"])
        #expect(stream == "[ZoneTransfer]")
    }

    @Test func volumesWithoutFilesAreNotedWhenSweptAndFailWhenNamed() throws {
        let cli = try CLIFixture()
        let directory = cli.directory
        let source = directory.file("src")
        try FileManager.default.createDirectory(atPath: "\(source)/etc", withIntermediateDirectories: true)
        try "db01\n".write(toFile: "\(source)/etc/hostname", atomically: true, encoding: .utf8)
        let root = directory.file("root.img")
        try Shell.check("mke2fs", ["-q", "-F", "-t", "ext4", "-d", source, root, "8M"])
        let swap = directory.file("swap.img")
        try Shell.check("truncate", ["-s", "8M", swap])
        try Shell.check("mkswap", [swap])
        let disk = try directory.image("disk.img", size: 20 << 20)
        try Shell.check("sgdisk", ["-o", "-n1:2048:+8M", "-t1:8300", "-n2:0:+8M", "-t2:8200", disk])
        try Shell.check("dd", ["if=\(root)", "of=\(disk)", "bs=1M", "seek=1", "conv=notrunc", "status=none"])
        try Shell.check("dd", ["if=\(swap)", "of=\(disk)", "bs=1M", "seek=9", "conv=notrunc", "status=none"])
        let id = try cli.create()
        let to = directory.file("out")

        let everything = try cli.run(["restore", id, "--to", to, "--json", "/disk0/**"])
        #expect(everything.status == 0, "a swap partition has nothing to restore: \(everything.stderr)")
        #expect(try String(contentsOfFile: "\(to)/disk0/part1/etc/hostname", encoding: .utf8) == "db01\n")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(everything.output)) as? [String: Any])
        #expect((report["notes"] as? [String] ?? []).contains { $0.hasPrefix("/disk0/part2") && $0.contains("swap") }, "\(report["notes"] ?? "")")

        let named = try cli.run(["restore", id, "--to", to, "/disk0/part2/etc/hostname"])
        #expect(named.status == 7, "a path inside it cannot be restored: \(named.stderr)")
        #expect(named.stderr.contains("/disk0/part2"))
    }

    @Test func aRefusedPointWritesNothing() throws {
        let cli = try CLIFixture()
        let id = try cli.create(["--guest-encryption", "ade-bitlocker"])
        let to = cli.directory.file("out")
        let result = try cli.run(["restore", id, "--to", to, "/disk0/**"])
        #expect(result.status == 3)
        #expect(result.stderr.contains("BitLocker"))
        #expect(lstatOf(to) == nil)
    }
}
