import Foundation
import TestSupport

/// A source tree with every kind of thing a VM's ext4 holds, the image mke2fs -d builds
/// from it inside a GPT disk, and a point of that disk.
final class Ext4Point: @unchecked Sendable {
    let cli: CLIFixture
    let source: String
    let disk: String
    let partitionOffset = 1 << 20
    let id: String

    init() throws {
        cli = try CLIFixture()
        let directory = cli.directory
        source = directory.file("src")
        try VMSourceTree.build(at: source)

        let root = directory.file("root.img")
        try Shell.check("mke2fs", ["-q", "-F", "-t", "ext4", "-b", "4096", "-I", "256", "-d", source, root, "64M"])
        // mke2fs -d keeps whole seconds only; give one file nanoseconds (123456789 << 2).
        try Shell.check("debugfs", ["-w", "-R", "sif /etc/hostname mtime_extra 0x1D6F3454", root])
        disk = try directory.image("disk.img", size: 80 << 20)
        try Shell.check("sgdisk", ["-o", "-n1:2048:+64M", "-t1:8300", "-c1:root", disk])
        try Shell.check("dd", ["if=\(root)", "of=\(disk)", "bs=1M", "seek=1", "conv=notrunc", "status=none"])
        id = try cli.create()
    }
}

func lstatOf(_ path: String) -> stat? {
    var info = stat()
    return lstat(path, &info) == 0 ? info : nil
}

