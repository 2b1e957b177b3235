import BlockDevices
import Foundation
import NTFSVolume
import TestSupport
import Testing
import VolumeModel

/// NTFS's redundant copies used when the primary ones are damaged: the boot sector's copy in
/// the volume's last sector, and record 0 of the MFT from `$MFTMirr`. The image is mkntfs's,
/// filled through ntfs-3g; the damage is a read failure over exactly the primary structure.
@Suite struct BackupStructureTests {
    /// The image lives as long as `directory`.
    private func image() throws -> (directory: TemporaryDirectory, image: String, report: [UInt8]) {
        let directory = try TemporaryDirectory("rpfs-ntfs-backup")
        var random = SeededBytes(seed: 21)
        let report = random.bytes(200_000)
        let reportFile = try directory.write("report.bin", report)
        let image = try NTFSImageBuilder.make(in: directory, size: 24 << 20, cluster: 4096, fill: """
            mkdir -p "$1/Users/Alice"
            cp '\(reportFile)' "$1/Users/Alice/Report.bin"
            printf 'notes\\r\\n' > "$1/Users/Alice/Notes.txt"
            """)
        return (directory, image, report)
    }

    /// Every path and size under the root, and Report.bin's bytes.
    private func contents(_ volume: NTFSVolume) throws -> (tree: [String], report: [UInt8]) {
        var tree: [String] = []
        var pending: [(UInt64, String)] = [(volume.rootNode, "")]
        while let (node, path) = pending.popLast() {
            for entry in try volume.entries(of: node) {
                let child = "\(path)/\(entry.name)"
                tree.append("\(child) \(entry.kind) \(try volume.attributes(of: entry.node).size)")
                if entry.kind == .directory { pending.append((entry.node, child)) }
            }
        }
        let users = try volume.lookup(FileName(validating: "Users"), in: volume.rootNode)
        let alice = try volume.lookup(FileName(validating: "Alice"), in: users)
        let file = try volume.lookup(FileName(validating: "Report.bin"), in: alice)
        var bytes = [UInt8](repeating: 0, count: 300_000)
        let count = try bytes.withUnsafeMutableBytes { try volume.read(file, at: 0, into: $0) }
        return (tree.sorted(), Array(bytes.prefix(count)))
    }

    @Test func aDamagedBootSectorIsReadFromItsCopyAtTheVolumesEnd() throws {
        let (directory, image, report) = try image()
        defer { withExtendedLifetime(directory) {} }
        let pristine = try contents(try NTFSVolume.open(FileBlockDevice(path: image), name: "ntfs"))
        #expect(pristine.report == report)

        let device = try DamagedDevice(path: image, damaged: [0 ..< 512])
        // Without being told where the copy is, the damage is the answer.
        let failure = volumeError { () throws(VolumeError) in _ = try NTFSVolume.open(device, name: "ntfs") }
        guard case let .device(error, _)? = failure else { Issue.record("expected a device error, got \(String(describing: failure))"); return }
        #expect(error.isDamage)

        let volume = try NTFSVolume.open(device, name: "ntfs", bootSectorAt: device.size - 512)
        let fromCopy = try contents(volume)
        #expect(fromCopy.tree == pristine.tree)
        #expect(fromCopy.report == report)
        #expect(volume.notes == ["ntfs: read through the backup boot sector at byte \(device.size - 512) (the primary cannot be read)"])
    }

    @Test func aDamagedFirstMFTRecordIsReadFromMFTMirr() throws {
        let (directory, image, report) = try image()
        defer { withExtendedLifetime(directory) {} }
        let boot = try FileBlockDevice(path: image).read(at: 0, count: 512)
        let mftLCN = boot[0x30 ..< 0x38].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let mirrorLCN = boot[0x38 ..< 0x40].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let mftStart = mftLCN * 4096
        let pristine = try contents(try NTFSVolume.open(FileBlockDevice(path: image), name: "ntfs"))

        let volume = try NTFSVolume.open(try DamagedDevice(path: image, damaged: [mftStart ..< mftStart + 1024]), name: "ntfs")
        let fromMirror = try contents(volume)
        #expect(fromMirror.tree == pristine.tree)
        #expect(fromMirror.report == report)
        #expect(volume.notes.count == 1)
        #expect(volume.notes.first?.contains("using its copy in $MFTMirr at cluster \(mirrorLCN)") == true, "\(volume.notes)")

        // Both copies damaged: the primary's damage is what is reported.
        let both = try DamagedDevice(path: image, damaged: [mftStart ..< mftStart + 1024, mirrorLCN * 4096 ..< mirrorLCN * 4096 + 1024])
        let failure = volumeError { () throws(VolumeError) in _ = try NTFSVolume.open(both, name: "ntfs") }
        guard case let .device(error, read)? = failure else { Issue.record("expected a device error, got \(String(describing: failure))"); return }
        #expect(error.isDamage)
        #expect(read?.offset == mftStart)
    }
}
