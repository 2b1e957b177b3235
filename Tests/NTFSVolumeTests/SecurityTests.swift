import ByteParsing
import Foundation
@testable import NTFSVolume
import TestSupport
import Testing
import VolumeModel

/// Descriptors made by Samba from SDDL (the independent encoder), set through ntfs-3g's
/// system.ntfs_acl, with DOS attributes through system.ntfs_attrib_be; ntfs-3g's own getfattr
/// of every path, taken while mounted, is the oracle for the bytes rpfs reads back.
final class SecurityImage: @unchecked Sendable {
    static let shared: Result<SecurityImage, any Error> = Result { try SecurityImage() }
    static func get() throws -> SecurityImage { try shared.get() }

    /// Shared by many files: protected, auto-inherited, inherit-only CREATOR OWNER.
    static let sharedA = "O:BAG:SYD:PAI(A;OICI;0x1f01ff;;;BA)(A;OICI;0x1f01ff;;;SY)(A;OICIIO;GA;;;CO)(A;;0x1200a9;;;BU)"
    /// Shared by a directory and its files: a deny ACE first, inherited ACEs, domain SIDs.
    static let sharedB = "O:S-1-5-21-1004336348-1177238915-682003330-1001G:S-1-5-21-1004336348-1177238915-682003330-513"
        + "D:AI(D;;WDWO;;;WD)(A;ID;0x1f01ff;;;S-1-5-21-1004336348-1177238915-682003330-1001)(A;OICIID;0x1301bf;;;AU)(A;OICIIOID;GXGR;;;BU)"
    /// Own descriptors: a SACL with audit ACEs; a service SID and an object ACE.
    static let ownC = "O:SYG:SYD:P(A;;FR;;;WD)(D;OICI;FW;;;AN)S:AI(AU;SAFA;0x1f01ff;;;WD)"
    static let ownD = "O:BAG:BAD:(A;;0x1f01ff;;;S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464)(A;;RC;;;BU)"
        + "(A;;FX;;;NS)(OA;;CR;ab721a53-1e2f-11d0-9819-00aa0040529b;;PS)"
    static let uniqueCount = 300

    struct Oracle { let acl: [UInt8]?; let attrib: [UInt8]; let attribBigEndian: [UInt8] }

    let directory: TemporaryDirectory
    let image: String
    let volume: NTFSVolume
    /// ntfs-3g's getfattr of every path ("" is the root).
    let oracle: [String: Oracle]

    static var tool: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Tools/sddl-oracle.py").path
    }

    static func pack(_ sddl: [String]) throws -> [String] {
        try Shell.check(tool, ["pack"] + sddl).split(separator: "\n").map(String.init)
    }

    init() throws {
        directory = try TemporaryDirectory("rpfs-ntfs-security")
        let packed = try Self.pack([Self.sharedA, Self.sharedB, Self.ownC, Self.ownD])
        let unique = try Self.pack((0 ..< Self.uniqueCount).map { "O:BAG:BAD:(A;;0x1200a9;;;S-1-5-21-1-2-3-\(1000 + $0))(A;OICI;GA;;;SY)" })
        let oracleFile = directory.file("oracle.tsv")
        let script = """
        M="$1"
        mkdir "$M/shared" "$M/shared/sub" "$M/own" "$M/unique"
        for i in $(seq 1 40); do printf "a$i" > "$M/shared/a$i"; setfattr -n system.ntfs_acl -v 0x\(packed[0]) "$M/shared/a$i"; done
        setfattr -n system.ntfs_acl -v 0x\(packed[1]) "$M/shared/sub"
        for i in $(seq 1 15); do printf "b$i" > "$M/shared/sub/b$i"; setfattr -n system.ntfs_acl -v 0x\(packed[1]) "$M/shared/sub/b$i"; done
        printf c > "$M/own/c"; setfattr -n system.ntfs_acl -v 0x\(packed[2]) "$M/own/c"
        printf d > "$M/own/d"; setfattr -n system.ntfs_acl -v 0x\(packed[3]) "$M/own/d"
        i=0
        for hex in \(unique.joined(separator: " ")); do
          i=$((i+1)); printf u > "$M/unique/u$i"; setfattr -n system.ntfs_acl -v 0x$hex "$M/unique/u$i"
        done
        printf plain > "$M/plain"
        printf x > "$M/rhsa"; setfattr -n system.ntfs_attrib_be -v 0x00000027 "$M/rhsa"
        printf x > "$M/hidden"; setfattr -n system.ntfs_attrib_be -v 0x00000002 "$M/hidden"
        printf x > "$M/none"; setfattr -n system.ntfs_attrib_be -v 0x00000000 "$M/none"
        printf x > "$M/notindexed"; setfattr -n system.ntfs_attrib_be -v 0x00002020 "$M/notindexed"
        cd "$M"
        value() { getfattr --absolute-names -e hex -n "$1" "$2" 2>/dev/null | sed -n "s/^$1=0x//p"; }
        find . | sort | while read -r p; do
          printf '%s\\t%s\\t%s\\t%s\\n' "${p#./}" "$(value system.ntfs_acl "$p")" "$(value system.ntfs_attrib "$p")" "$(value system.ntfs_attrib_be "$p")"
        done > "\(oracleFile)"
        """
        image = try NTFSImageBuilder.make(in: directory, size: 48 << 20, cluster: 4096, label: "security", fill: script)
        volume = try openVolume(image, name: "security")
        var oracle: [String: Oracle] = [:]
        for line in try String(contentsOfFile: oracleFile, encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 4, let attrib = Hex.decode(fields[2]), let bigEndian = Hex.decode(fields[3]) else {
                throw TestFailure("oracle line '\(line)'")
            }
            oracle[fields[0] == "." ? "" : fields[0]] = Oracle(acl: fields[1].isEmpty ? nil : Hex.decode(fields[1]), attrib: attrib,
                                                                attribBigEndian: bigEndian)
        }
        self.oracle = oracle
    }

    func node(_ path: String) throws -> UInt64 { path.isEmpty ? volume.rootNode : try volume.node(at: path) }
}

@Suite(.timeLimit(.minutes(3))) struct SecurityTests {
    @Test func descriptorsAndAttributesMatchNtfs3g() throws {
        let image = try SecurityImage.get()
        #expect(image.oracle.count > SecurityImage.uniqueCount + 60)
        for (path, expected) in image.oracle {
            let node = try image.node(path)
            let acl = try image.volume.extendedAttribute(named: "system.ntfs_acl", of: node)
            #expect(acl == expected.acl, "\(path)")
            #expect(try image.volume.extendedAttribute(named: "system.ntfs_attrib", of: node) == expected.attrib, "\(path)")
            #expect(try image.volume.extendedAttribute(named: "system.ntfs_attrib_be", of: node) == expected.attribBigEndian, "\(path)")
            // Listed: the descriptor under its user name (what cp keeps); never the system names.
            let listed = try image.volume.extendedAttributes(of: node)
            #expect(listed.first { $0.name == "user.ntfs.security_descriptor" }?.value == expected.acl, "\(path)")
            #expect(!listed.contains { $0.name.hasPrefix("system.") }, "\(path)")
            #expect(try image.volume.extendedAttribute(named: "user.ntfs.security_descriptor", of: node) == expected.acl, "\(path)")
        }
        #expect(image.oracle.values.allSatisfy { $0.acl != nil })
    }

    @Test func descriptorsComeFromSecureAndFromTheirOwnAttribute() throws {
        let image = try SecurityImage.get()
        let volume = image.volume
        func securityID(_ path: String) throws -> UInt32? { try volume.file(image.node(path)).standardInformation?.securityID }
        let shared = try Set((1 ... 40).map { try securityID("shared/a\($0)") })
        #expect(shared.count == 1 && shared.first != 0 && shared.first != nil)
        #expect(try securityID("shared/sub") == securityID("shared/sub/b1"))
        let unique = try Set((1 ... SecurityImage.uniqueCount).map { try securityID("unique/u\($0)") })
        #expect(unique.count == SecurityImage.uniqueCount)
        // So many descriptors need INDX records below $SII's root: the B-tree descent is used.
        let tree = try volume.indexTree(try volume.file(9), named: NTFSVolume.siiName, indexedType: 0, "$SII", key: SecurityEntryHeader.indexKey)
        #expect(tree.allocation != nil)
        #expect(tree.root.entries.contains { $0.subnode != nil })
        // mkntfs gives the root the NTFS 1.x form: no security id, a $SECURITY_DESCRIPTOR.
        let root = try volume.file(volume.rootNode)
        #expect(root.standardInformation?.securityID == nil || root.standardInformation?.securityID == 0)
        #expect(!root.attributes(.securityDescriptor).isEmpty)
        #expect(try volume.extendedAttribute(named: "system.ntfs_acl", of: volume.rootNode) == image.oracle[""]?.acl)
    }

    /// Every descriptor's SDDL denotes, for Samba, what the descriptor's bytes denote.
    @Test func sddlMeansWhatTheBytesMean() throws {
        let image = try SecurityImage.get()
        var lines: Set<String> = []
        for expected in image.oracle.values {
            let bytes = try #require(expected.acl)
            let descriptor = try SecurityDescriptor.parse(bytes)
            lines.insert(Hex.encode(bytes) + "\t" + SDDL.render(descriptor))
        }
        #expect(lines.count > SecurityImage.uniqueCount)
        let result = try Shell.run(SecurityImage.tool, ["check"], input: lines.sorted().joined(separator: "\n") + "\n")
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.hasSuffix("ok\n"), "\(result.stdout)")
    }

    /// Names from Microsoft's SDDL documentation for its documented masks and SIDs.
    @Test func sddlNamesDocumentedRightsAndSIDs() throws {
        #expect(SDDL.rights(0x001F_01FF) == "FA") // FILE_ALL_ACCESS
        #expect(SDDL.rights(0x0012_0089) == "FR") // FILE_GENERIC_READ
        #expect(SDDL.rights(0x0012_0116) == "FW") // FILE_GENERIC_WRITE
        #expect(SDDL.rights(0x0012_00A0) == "FX") // FILE_GENERIC_EXECUTE
        #expect(SDDL.rights(0xA000_0000) == "GXGR") // GENERIC_EXECUTE | GENERIC_READ
        #expect(SDDL.rights(0x000C_0000) == "WDWO") // WRITE_DAC | WRITE_OWNER
        #expect(SDDL.rights(0x0013_01BF) == "0x1301bf") // SYNCHRONIZE has no SDDL name
        let image = try SecurityImage.get()
        let a = try SecurityDescriptor.parse(try #require(image.oracle["shared/a1"]?.acl))
        #expect(SDDL.render(a) == "O:BAG:SYD:PAI(A;OICI;FA;;;BA)(A;OICI;FA;;;SY)(A;OICIIO;GA;;;CO)(A;;0x1200a9;;;BU)")
    }

    /// A $SDS entry whose header no longer repeats its security id fails the files using it.
    @Test func aDamagedSecureEntryFailsItsFilesOnly() throws {
        let image = try SecurityImage.get()
        let copy = image.directory.file("damaged-sds.img")
        try FileManager.default.copyItem(atPath: image.image, toPath: copy)
        let id = try #require(try image.volume.file(image.node("own/c")).standardInformation?.securityID)
        // The entry: a 20-byte header (hash, id, its own offset, length) found in icat's copy of $SDS.
        let line = try #require(try Shell.check("istat", [copy, "9"]).split(separator: "\n").first { $0.contains("Name: $SDS") })
        let marker = try #require(line.firstRange(of: "(128-"))
        let attribute = "128-" + line[marker.upperBound...].prefix { $0.isNumber }
        let sds = try SleuthKit.icat(copy, "9-\(attribute)")
        let offset = try #require(stride(from: 0, to: sds.count - 20, by: 16).first { at in
            NTFSImage.le(sds, at + 4, 4) == UInt64(id) && NTFSImage.le(sds, at + 8, 8) == UInt64(at)
        })
        let clusters = try NTFSImage.clusters(copy, 9, attribute: attribute)
        try NTFSImage.patch(copy, at: clusters[offset / 4096] * 4096 + UInt64(offset % 4096) + 4, [0xEE, 0xEE, 0xEE, 0x0E])
        let volume = try openVolume(copy)
        let own = try volume.node(at: "own/c")
        let error = volumeError { () throws(VolumeError) in _ = try volume.extendedAttribute(named: "system.ntfs_acl", of: own) }
        #expect(error?.kind == "corrupt" && error?.description.contains("$SDS") == true, "\(String(describing: error))")
        #expect(try volume.contents(own) == Array("c".utf8))
        #expect(try volume.extendedAttribute(named: "system.ntfs_acl", of: volume.node(at: "own/d")) == image.oracle["own/d"]?.acl)
    }

    @Test func aDamagedDescriptorFailsItsFileOnly() throws {
        let directory = try TemporaryDirectory("rpfs-ntfs-bad-descriptor")
        let image = try NTFSImageBuilder.make(in: directory, size: 16 << 20, cluster: 4096, fill: "printf x > \"$1/file\"")
        // The root's own $SECURITY_DESCRIPTOR (mkntfs makes it non-resident): its DACL offset
        // (bytes 16-19) pointed past the descriptor.
        let cluster = try #require(try NTFSImage.clusters(image, 5, attribute: "80-").first)
        try NTFSImage.patch(image, at: cluster * 4096 + 16, [0xFF, 0xFF, 0, 0])
        let volume = try openVolume(image)
        let error = volumeError { () throws(VolumeError) in _ = try volume.extendedAttributes(of: volume.rootNode) }
        #expect(error?.kind == "corrupt", "\(String(describing: error))")
        #expect(error?.description.contains("$SECURITY_DESCRIPTOR") == true, "\(String(describing: error))")
        #expect(volumeError { () throws(VolumeError) in _ = try volume.extendedAttribute(named: "system.ntfs_acl", of: volume.rootNode) }?.kind == "corrupt")
        // The rest of the root still answers.
        #expect(try volume.attributes(of: volume.rootNode).kind == .directory)
        #expect(try volume.entries(of: volume.rootNode).map(\.name.description) == ["file"])
        #expect(try volume.extendedAttribute(named: "system.ntfs_attrib", of: volume.rootNode) != nil)
    }
}

@Suite struct SecurityDescriptorParsingTests {
    static func samples() throws -> [[UInt8]] {
        try SecurityImage.pack([SecurityImage.sharedA, SecurityImage.sharedB, SecurityImage.ownC, SecurityImage.ownD]).map { try #require(Hex.decode($0)) }
    }

    @Test func brokenOffsetsAndSizesAreErrors() throws {
        let d = try Self.samples()[3]
        func broken(_ offset: Int, _ bytes: [UInt8]) -> [UInt8] {
            var copy = d
            copy.replaceSubrange(offset ..< offset + bytes.count, with: bytes)
            return copy
        }
        let daclOffset = Int(d[16]) | Int(d[17]) << 8
        let cases: [(String, [UInt8])] = [
            ("truncated", Array(d.prefix(19))),
            ("owner past the end", broken(4, [0xF0, 0xFF, 0, 0])),
            ("owner in the header", broken(4, [4, 0, 0, 0])),
            ("DACL past the end", broken(16, [0xF0, 0xFF, 0, 0])),
            ("ACL larger than the descriptor", broken(daclOffset + 2, [0xFF, 0xFF])),
            ("more ACEs than fit", broken(daclOffset + 4, [0xFF, 0x7F])),
            ("ACE of size 0", broken(daclOffset + 8 + 2, [0, 0])),
            ("ACE past its ACL", broken(daclOffset + 8 + 2, [0xFC, 0x0F])),
            ("SID with 16 sub-authorities", broken(Int(d[4]) + 1, [16])),
            ("not self-relative", broken(2, [0x04, 0x00])),
        ]
        for (what, bytes) in cases {
            #expect(throws: ByteParsingError.self, "\(what)") { try SecurityDescriptor.parse(bytes) }
        }
    }

    /// Random damage never crashes, hangs or reads out of bounds; what parses renders.
    @Test func mutationsGiveErrorsNotCrashes() throws {
        var generator = SystemRandomNumberGenerator()
        for sample in try Self.samples() {
            for _ in 0 ..< 2000 {
                var bytes = sample
                for _ in 0 ..< Int.random(in: 1 ... 4, using: &generator) {
                    bytes[Int.random(in: 0 ..< bytes.count, using: &generator)] = UInt8.random(in: 0 ... 255, using: &generator)
                }
                if Bool.random(using: &generator) { bytes = Array(bytes.prefix(Int.random(in: 0 ... bytes.count, using: &generator))) }
                if let descriptor = try? SecurityDescriptor.parse(bytes) { _ = SDDL.render(descriptor) }
            }
        }
    }
}
