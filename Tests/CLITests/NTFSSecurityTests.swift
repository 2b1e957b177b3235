import Foundation
import TestSupport
import Testing

/// Windows security descriptors and DOS attributes through ls --json, cp, restore and a mount.
/// Descriptors are made by Samba from SDDL and set through ntfs-3g; ntfs-3g's getfattr (taken
/// while it had the image mounted) and Samba's reading of the SDDL are the oracles.
@Suite struct NTFSSecurityTests {
    static let tool = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Tools/sddl-oracle.py").path

    @Test func descriptorsReachListingsCopiesRestoresAndTheMount() throws {
        let cli = try CLIFixture()
        let directory = cli.directory
        let packed = try Shell.check(Self.tool, ["pack",
            "O:S-1-5-21-1004336348-1177238915-682003330-1001G:SYD:AI(D;;WDWO;;;WD)(A;ID;0x1f01ff;;;S-1-5-21-1004336348-1177238915-682003330-1001)(A;OICIID;0x1301bf;;;AU)",
            "O:BAG:SYD:PAI(A;OICI;0x1f01ff;;;BA)(A;OICIIO;GA;;;CO)(A;;0x1200a9;;;BU)S:AI(AU;SAFA;0x1f01ff;;;WD)",
        ]).split(separator: "\n").map(String.init)
        let oracle = directory.file("oracle.tsv")
        let volume = try NTFSImageBuilder.make(in: directory, size: 16 << 20, cluster: 4096, fill: """
            mkdir "$1/Docs"
            printf 'contract' > "$1/Docs/deal.txt"; setfattr -n system.ntfs_acl -v 0x\(packed[0]) "$1/Docs/deal.txt"
            printf 'secret' > "$1/Docs/hidden.txt"; setfattr -n system.ntfs_acl -v 0x\(packed[1]) "$1/Docs/hidden.txt"
            setfattr -n system.ntfs_attrib_be -v 0x00000027 "$1/Docs/hidden.txt"
            setfattr -n system.ntfs_acl -v 0x\(packed[1]) "$1/Docs"
            cd "$1/Docs"
            value() { getfattr --absolute-names -e hex -n "$1" "$2" | sed -n "s/^$1=0x//p"; }
            for p in . deal.txt hidden.txt; do
              printf '%s\\t%s\\t%s\\n' "$p" "$(value system.ntfs_acl $p)" "$(value system.ntfs_attrib $p)"
            done > '\(oracle)'
            """)
        var acl: [String: String] = [:]
        var attrib: [String: String] = [:]
        for line in try String(contentsOfFile: oracle, encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: "\t").map(String.init)
            acl[fields[0]] = fields[1]
            attrib[fields[0]] = fields[2]
        }
        #expect(acl.count == 3 && acl.values.allSatisfy { $0.count > 40 } && attrib["hidden.txt"] == "27000000", "\(acl) \(attrib)")
        let id = String(try cli.expectSuccess(["create", "--kek", "backup", "--disk", volume]).split(separator: "\n").last ?? "")

        // ls --json: owner_sid as Samba reads the bytes, sddl meaning what the bytes mean.
        let json = try cli.expectSuccess(["ls", "--json", "\(id):/disk0/volume/Docs"])
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        var lines: [String] = []
        for name in ["deal.txt", "hidden.txt"] {
            let entry = try #require(entries.first { $0["name"] as? String == name })
            let hex = try #require(acl[name])
            let owner = try Shell.check(Self.tool, ["owner", hex]).trimmingCharacters(in: .newlines)
            #expect(entry["owner_sid"] as? String == owner, "\(name)")
            lines.append(hex + "\t" + (try #require(entry["sddl"] as? String)))
        }
        let check = try Shell.run(Self.tool, ["check"], input: lines.joined(separator: "\n") + "\n")
        #expect(check.status == 0 && check.stdout == "ok\n", "\(check.stdout)\(check.stderr)")

        // cp keeps the descriptor and the DOS attributes as user xattrs.
        let out = directory.file("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let copied = try cli.run(["cp", "-R", "\(id):/disk0/volume/Docs", out])
        #expect(copied.status == 0, "\(copied.stderr)")
        for (name, path) in [(".", "\(out)/Docs"), ("deal.txt", "\(out)/Docs/deal.txt"), ("hidden.txt", "\(out)/Docs/hidden.txt")] {
            #expect(try xattr("user.ntfs.security_descriptor", path) == acl[name], "\(name)")
        }
        #expect(try xattr("user.ntfs.attributes", "\(out)/Docs/hidden.txt") == attrib["hidden.txt"])

        // restore: the report carries owner_sid and sddl; the file its descriptor.
        let restored = try cli.run(["restore", id, "--to", directory.file("restored"), "--json", "/disk0/volume/Docs/deal.txt"])
        #expect(restored.status == 0, "\(restored.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(restored.output)) as? [String: Any])
        let record = try #require((report["files"] as? [[String: Any]])?.first)
        let deal = try #require(entries.first { $0["name"] as? String == "deal.txt" })
        #expect(record["owner_sid"] as? String == deal["owner_sid"] as? String)
        #expect(record["sddl"] as? String == deal["sddl"] as? String)
        #expect(try xattr("user.ntfs.security_descriptor", directory.file("restored/disk0/volume/Docs/deal.txt")) == acl["deal.txt"])

        // The mount answers ntfs-3g's names when asked, and lists only the user names.
        let mountpoint = directory.file("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        #expect(try cli.run(["mount", id, mountpoint]).status == 0)
        defer { _ = try? Shell.run("fusermount3", ["-uz", mountpoint]) }
        let docs = "\(mountpoint)/disk0/volume/Docs"
        for (name, path) in [(".", docs), ("deal.txt", "\(docs)/deal.txt"), ("hidden.txt", "\(docs)/hidden.txt")] {
            #expect(try xattr("system.ntfs_acl", path) == acl[name], "\(name)")
            #expect(try xattr("system.ntfs_attrib", path) == attrib[name], "\(name)")
            let listed = try Shell.check("getfattr", ["--absolute-names", "-m", "-", path])
            #expect(listed.contains("user.ntfs.security_descriptor") && !listed.contains("system."), "\(listed)")
        }
    }

    /// One xattr as getfattr prints it in hex, without the 0x.
    private func xattr(_ name: String, _ path: String) throws -> String? {
        let result = try Shell.run("getfattr", ["--absolute-names", "-e", "hex", "-n", name, path])
        guard result.status == 0 else { return nil }
        return result.stdout.split(separator: "\n").first { $0.hasPrefix(name + "=0x") }.map { String($0.dropFirst(name.count + 3)) }
    }
}
