import Foundation

/// A source tree with every kind of thing a VM's root filesystem holds, for `mke2fs -d`:
/// text, an empty file, a 1 MiB random file with a hard link, a Unicode name, a sparse
/// file, short and long symlinks, a FIFO, an extended attribute, an ACL, owners, setuid,
/// and a time with nanoseconds.
public enum VMSourceTree {
    public static func build(at source: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: "\(source)/etc", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: "\(source)/home/alice/Documents", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: "\(source)/srv/data", withIntermediateDirectories: true)
        try "web01\n".write(toFile: "\(source)/etc/hostname", atomically: true, encoding: .utf8)
        try Data().write(to: URL(fileURLWithPath: "\(source)/etc/empty"))
        var random = SeededBytes(seed: 42)
        try Data(random.bytes((1 << 20) + 3)).write(to: URL(fileURLWithPath: "\(source)/srv/data/blob.bin"))
        try "café\n".write(toFile: "\(source)/home/alice/Documents/café ☕.txt", atomically: true, encoding: .utf8)
        // A sparse file: data at 1 MiB and at the end of 8 MiB, holes elsewhere.
        let sparse = "\(source)/srv/data/sparse.img"
        try Shell.check("truncate", ["-s", "8M", sparse])
        try Shell.check("dd", ["if=/dev/urandom", "of=\(sparse)", "bs=4096", "count=1", "seek=256", "conv=notrunc", "status=none"])
        try Shell.check("dd", ["if=/dev/urandom", "of=\(sparse)", "bs=4096", "count=1", "seek=2047", "conv=notrunc", "status=none"])
        try fm.linkItem(atPath: "\(source)/srv/data/blob.bin", toPath: "\(source)/srv/blob-hardlink.bin")
        try fm.createSymbolicLink(atPath: "\(source)/etc/host-link", withDestinationPath: "hostname")
        try fm.createSymbolicLink(atPath: "\(source)/srv/long-link", withDestinationPath: "/" + String(repeating: "very-long-directory-name/", count: 6) + "target")
        try Shell.check("mkfifo", ["\(source)/srv/pipe"])
        try Shell.check("setfattr", ["-n", "user.comment", "-v", "restore me", "\(source)/etc/hostname"])
        try Shell.check("setfacl", ["-m", "u:1234:rwx", "\(source)/srv/data"])
        try Shell.check("chown", ["-R", "1234:5678", "\(source)/home/alice"])
        try Shell.check("chmod", ["4755", "\(source)/srv/data/blob.bin"])
        try Shell.check("chmod", ["0750", "\(source)/home/alice"])
        try Shell.check("touch", ["-h", "-d", "2021-03-04 05:06:07.123456789 UTC", "\(source)/etc/hostname", "\(source)/etc/host-link", "\(source)/home/alice"])
    }
}
