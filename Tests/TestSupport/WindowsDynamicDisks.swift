import Foundation

/// Dynamic disks Windows Server 2003 R2 and 2008 R2 made, from libldm's test data
/// (fixtures/README.md): one disk group per release, each volume an NTFS holding `test.txt`.
public enum WindowsDynamicDisks {
    /// What libldm's tests say every volume's test.txt holds.
    public static let testFileContents = "Filesystem test"

    /// Unpacks the images into `directory`; the paths of one release's disks ("2003r2",
    /// "2008r2"), in name order.
    public static func unpack(_ release: String, into directory: TemporaryDirectory) throws -> [String] {
        try Shell.check("tar", ["-xJf", "\(repositoryRoot)/fixtures/ldm/libldm-ldm-data.tar.xz", "-C", directory.path])
        return try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasPrefix("ldm-\(release)-") && $0.hasSuffix(".img") }.sorted().map(directory.file)
    }
}
