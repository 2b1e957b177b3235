import Foundation
import TestSupport
import Testing

/// The repository's mount.rpfs, installed for one test as /sbin/mount.TYPE under a type name
/// of its own: mount(8) only looks in /sbin, and a test must neither replace an installed
/// /sbin/mount.rpfs nor race another test run for it. Removed at the end.
private final class InstalledHelper: @unchecked Sendable {
    static let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("mount-helpers/mount.rpfs").path

    let type = "rpfs-test-\(getpid())-\(UInt32.random(in: 0 ... .max))"
    var path: String { "/sbin/mount.\(type)" }

    init() throws {
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: Self.source)
    }

    deinit { unlink(path) }
}

/// One point, a mount point for it, and mount(8) run with the helper installed.
private final class HelperFixture: @unchecked Sendable {
    let point: Ext4Point
    let helper: InstalledHelper
    let mountpoint: String

    init() throws {
        point = try Ext4Point()
        helper = try InstalledHelper()
        mountpoint = point.cli.directory.file("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
    }

    var store: String { point.cli.directory.file("store") }
    var keyring: String { point.cli.directory.file("keys") }
    var root: String { "\(mountpoint)/disk0/part1" }

    /// mount(8) gives helpers a fixed PATH; RPFS_BIN points the helper at the rpfs under test.
    /// No RPFS_STORE/RPFS_KEYRING: the options must carry them.
    static let environment = ["RPFS_BIN": rpfsBinary, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"]

    func mount(_ arguments: [String]) throws -> CommandResult {
        try Shell.run("/usr/bin/mount", arguments, environment: Self.environment)
    }

    func mountType(_ options: String, flags: [String] = []) throws -> CommandResult {
        try mount(flags + ["-t", helper.type, point.id, mountpoint, "-o", options])
    }

    var isMounted: Bool {
        ((try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? "").contains(" \(mountpoint) ")
    }

    /// The mount's line in /proc/mounts.
    var mountsLine: String {
        ((try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? "").split(separator: "\n").first { $0.contains(" \(mountpoint) ") }.map(String.init) ?? ""
    }

    deinit { _ = try? Shell.run("fusermount3", ["-uz", mountpoint]) }
}

@Suite(.serialized) struct MountHelperTests {
    @Test func mountTypeRpfsServesTheSourceTreeAndUmountEndsIt() throws {
        let fixture = try HelperFixture()
        let mounted = try fixture.mountType("store=\(fixture.store),keyring=\(fixture.keyring),cache_size=8M,idle_timeout=1h,nosuid,nodev,noexec")
        #expect(mounted.status == 0, "\(mounted.stderr)")
        #expect(fixture.isMounted)
        let line = fixture.mountsLine
        #expect(line.hasPrefix("rpfs:\(fixture.point.id) "), "\(line)")
        #expect(line.contains(" fuse.rpfs ro,nosuid,nodev,noexec"), "\(line)")

        let diff = try Shell.run("diff", ["-r", "--no-dereference", fixture.point.source, fixture.root])
        let unexpected = diff.stdout.split(separator: "\n").filter { !$0.hasPrefix("Only in \(fixture.root): lost+found") && !$0.contains("pipe") }
        #expect(unexpected.isEmpty, "\(unexpected)")
        // A file copied out through the mount, with cp -a, equals the source in bytes, mode and times.
        let copy = fixture.point.cli.directory.file("blob-copy.bin")
        try Shell.check("cp", ["-a", "\(fixture.root)/srv/data/blob.bin", copy])
        #expect(try Shell.check("cmp", [copy, "\(fixture.point.source)/srv/data/blob.bin"]).isEmpty)
        let original = try #require(lstatOf("\(fixture.point.source)/srv/data/blob.bin"))
        let copied = try #require(lstatOf(copy))
        #expect(copied.st_mode == original.st_mode && copied.st_mtim.tv_sec == original.st_mtim.tv_sec)

        // umount(8) ends the mount, and the daemon with it.
        let unmounted = try Shell.run("/usr/bin/umount", [fixture.mountpoint])
        #expect(unmounted.status == 0, "\(unmounted.stderr)")
        #expect(!fixture.isMounted)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, try !Shell.run("pgrep", ["-f", "rpfs mount \(fixture.point.id)"]).stdout.isEmpty { usleep(50_000) }
        #expect(try Shell.run("pgrep", ["-f", "rpfs mount \(fixture.point.id)"]).stdout.isEmpty, "daemon still running")
    }

    @Test func anFstabLineMountsWithEscapedPathsAndAllowOther() throws {
        let fixture = try HelperFixture()
        // fstab escapes a space as \040; mount(8) decodes it before the helper sees the option.
        let spaced = fixture.point.cli.directory.file("backup store")
        try FileManager.default.createSymbolicLink(atPath: spaced, withDestinationPath: fixture.store)
        let fstab = fixture.point.cli.directory.file("fstab")
        let options = "noauto,x-systemd.automount,x-systemd.idle-timeout=10min,nofail,store=\(spaced.replacingOccurrences(of: " ", with: "\\040")),keyring=\(fixture.keyring),allow_other,idle_timeout=30m"
        try "# rpfs restore mount\nrpfs:\(fixture.point.id)  \(fixture.mountpoint)  \(fixture.helper.type)  \(options)  0  0\n"
            .write(toFile: fstab, atomically: true, encoding: .utf8)

        let mounted = try fixture.mount(["--fstab", fstab, fixture.mountpoint])
        #expect(mounted.status == 0, "\(mounted.stderr)")
        #expect(fixture.mountsLine.contains("allow_other"), "\(fixture.mountsLine)")
        #expect(try String(contentsOfFile: "\(fixture.root)/etc/hostname", encoding: .utf8) == "web01\n")
        #expect(try Shell.check("cmp", ["\(fixture.root)/srv/data/sparse.img", "\(fixture.point.source)/srv/data/sparse.img"]).isEmpty)
        #expect(try Shell.run("/usr/bin/umount", [fixture.mountpoint]).status == 0)
        #expect(!fixture.isMounted)

        // The same line found by its source instead of its directory (-T is --fstab).
        let bySource = try fixture.mount(["-T", fstab, "rpfs:\(fixture.point.id)"])
        #expect(bySource.status == 0, "\(bySource.stderr)")
        #expect(fixture.isMounted)
        #expect(try Shell.run("/usr/bin/umount", [fixture.mountpoint]).status == 0)
    }

    @Test func badOptionsFailClearlyAndMountNothing() throws {
        let fixture = try HelperFixture()
        let keys = "store=\(fixture.store),keyring=\(fixture.keyring)"
        let cases: [(options: String, message: String)] = [
            ("\(keys),colour=blue", "unknown option 'colour=blue'"),
            ("\(keys),store=", "option store needs a value"),
            ("\(keys),idle_timeout", "option idle_timeout needs a value"),
            ("\(keys),allow_other=yes", "option allow_other takes no value"),
            ("\(keys),idle_timeout=soon", "--idle-timeout must look like 90s"),
            ("\(keys),cache_size=0", "--cache-size must be between"),
            ("\(keys),pkcs11_module=/usr/lib/softhsm/libsofthsm2.so", "PKCS#11 needs all of"),
        ]
        for (options, message) in cases {
            let result = try fixture.mountType(options)
            #expect(result.status == 2, "\(options): exit \(result.status)")
            #expect(result.stderr.contains(message), "\(options): \(result.stderr)")
            #expect(!fixture.isMounted, "\(options) mounted")
        }
        // mount(8) drops an option with an unbalanced quote before the helper sees it; called
        // directly, the helper refuses it.
        let unbalanced = try Shell.run(InstalledHelper.source, [fixture.point.id, fixture.mountpoint, "-o", "\(keys),unwrap_command=\"kms --region eu"],
                                       environment: HelperFixture.environment)
        #expect(unbalanced.status == 2)
        #expect(unbalanced.stderr.contains("unbalanced double quote"), "\(unbalanced.stderr)")
        // A namespace (-N) the helper would not enter is refused, not ignored.
        let namespaced = try Shell.run(InstalledHelper.source, [fixture.point.id, fixture.mountpoint, "-N", "1", "-o", keys],
                                       environment: HelperFixture.environment)
        #expect(namespaced.status == 2)
        #expect(namespaced.stderr.contains("mount namespaces (-N) are not supported"), "\(namespaced.stderr)")
        #expect(!fixture.isMounted)
        // rw given to rpfs itself would undo its ro (libfuse takes the last one): refused.
        let writable = try fixture.point.cli.run(["mount", fixture.point.id, fixture.mountpoint, "-o", "noatime,rw"])
        #expect(writable.status == 2)
        #expect(writable.stderr.contains("-o rw: rpfs mounts are read-only"), "\(writable.stderr)")
        #expect(!fixture.isMounted)
        // A keyring without the KEK: rpfs's own key error (exit 4) comes back through mount(8).
        let emptyKeyring = fixture.point.cli.directory.file("empty-keys")
        try FileManager.default.createDirectory(atPath: emptyKeyring, withIntermediateDirectories: true)
        let keyless = try fixture.mountType("store=\(fixture.store),keyring=\(emptyKeyring)")
        #expect(keyless.status == 4, "\(keyless.stderr)")
        #expect(keyless.stderr.contains("backup"), "\(keyless.stderr)")
        #expect(!fixture.isMounted)
        // An unknown point: not found (6).
        let unknown = try fixture.mount(["-t", fixture.helper.type, "ffff", fixture.mountpoint, "-o", keys])
        #expect(unknown.status == 6, "\(unknown.stderr)")
        #expect(!fixture.isMounted)
    }

    @Test func sloppyFakeAndVerboseFlagsFromMount() throws {
        let fixture = try HelperFixture()
        let keys = "store=\(fixture.store),keyring=\(fixture.keyring)"
        // -f (fake): the options are checked and the command shown, nothing is mounted.
        let fake = try fixture.mountType("\(keys),cache_size=64M", flags: ["-f"])
        #expect(fake.status == 0, "\(fake.stderr)")
        #expect(fake.stderr.contains("mount \(fixture.point.id) \(fixture.mountpoint) --store \(fixture.store) --keyring \(fixture.keyring) --cache-size 64M"), "\(fake.stderr)")
        #expect(!fixture.isMounted)
        #expect(try fixture.mountType("\(keys),colour=blue", flags: ["-f"]).status == 2)
        // -s (sloppy): an unknown option is skipped with a warning, the mount goes ahead.
        let sloppy = try fixture.mountType("\(keys),colour=blue", flags: ["-s", "-v"])
        #expect(sloppy.status == 0, "\(sloppy.stderr)")
        #expect(sloppy.stderr.contains("ignoring unknown option 'colour=blue'"))
        #expect(sloppy.stderr.contains("--store"), "-v shows the rpfs command: \(sloppy.stderr)")
        #expect(try String(contentsOfFile: "\(fixture.root)/etc/hostname", encoding: .utf8) == "web01\n")
        #expect(try Shell.run("/usr/bin/umount", [fixture.mountpoint]).status == 0)
    }

    @Test func aQuotedUnwrapCommandKeepsItsCommas() throws {
        let fixture = try HelperFixture()
        let keys = fixture.keyring
        // An external KMS command (docs/KEYS.md) that insists on its comma-holding argument.
        let script = try fixture.point.cli.directory.write("kms", Array("""
            #!/bin/sh
            [ "$1" = "--regions" ] && [ "$2" = "eu,us" ] || { echo "kms: bad arguments: $*" >&2; exit 4; }
            key="\(keys)/$RPFS_KEK_NAME/$RPFS_KEK_VERSION.pem"
            case "$RPFS_OPERATION" in
              unwrap) exec openssl pkeyutl -decrypt -inkey "$key" -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 ;;
              versions) ls "\(keys)/$RPFS_KEK_NAME" | sed -n 's/\\.pem$//p' ;;
              *) exit 4 ;;
            esac

            """.utf8))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
        let mounted = try fixture.mountType("store=\(fixture.store),unwrap_command=\"\(script) --regions eu,us\",unwrap_timeout=20")
        #expect(mounted.status == 0, "\(mounted.stderr)")
        #expect(try String(contentsOfFile: "\(fixture.root)/etc/hostname", encoding: .utf8) == "web01\n")
        #expect(try Shell.run("/usr/bin/umount", [fixture.mountpoint]).status == 0)
    }

    @Test func theExampleSystemdUnitsOptionsAreAcceptedByTheHelper() throws {
        let fixture = try HelperFixture()
        let directory = URL(fileURLWithPath: InstalledHelper.source).deletingLastPathComponent().path
        let unit = try String(contentsOfFile: "\(directory)/mnt-restore.mount", encoding: .utf8)
        func value(_ key: String) -> String? {
            unit.split(separator: "\n").first { $0.hasPrefix("\(key)=") }.map { String($0.dropFirst(key.count + 1)) }
        }
        #expect(value("Type") == "rpfs")
        #expect(value("Where") == "/mnt/restore", "a mount unit's name must be its escaped Where=")
        let options = try #require(value("Options"))
        #expect(options.contains("idle_timeout="), "the example unit ends itself when idle")
        // What systemd would run, faked (-f): the helper must accept every option.
        let fake = try fixture.mount(["-f", "-t", fixture.helper.type, try #require(value("What")), fixture.mountpoint, "-o", options])
        #expect(fake.status == 0, "\(fake.stderr)")
        #expect(fake.stderr.contains("--idle-timeout"), "\(fake.stderr)")
        let automount = try String(contentsOfFile: "\(directory)/mnt-restore.automount", encoding: .utf8)
        #expect(automount.contains("Where=/mnt/restore"))
    }

    /// No systemd runs here to start the example units, but systemd's own parser can load
    /// them: `systemd-analyze verify` refuses a unit whose name does not match its Where=,
    /// and warns (on stderr) about unknown keys and bad values, which this test fails on too.
    @Test func theExampleSystemdUnitsPassSystemdAnalyzeVerify() throws {
        let directory = URL(fileURLWithPath: InstalledHelper.source).deletingLastPathComponent().path
        let verified = try Shell.run("systemd-analyze", ["verify", "\(directory)/mnt-restore.mount", "\(directory)/mnt-restore.automount"])
        #expect(verified.status == 0 && verified.stderr.isEmpty, "\(verified.stderr)")
    }
}
