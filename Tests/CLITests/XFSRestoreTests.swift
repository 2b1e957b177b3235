import Foundation
import TestSupport
import Testing

/// A Linux disk with an XFS partition (mkfs.xfs, filled through the kernel), backed up as a
/// point: rpfs ls and cp -R against the kernel's own read-only mount of the same volume.
@Suite(.timeLimit(.minutes(5))) struct XFSRestoreTests {
    static let fill = #"""
    import os, socket, subprocess, sys
    m = sys.argv[1]
    p = lambda *a: os.path.join(m, *a)
    os.makedirs(p('home', 'alice', 'docs'))
    with open(p('home', 'alice', 'docs', 'report.bin'), 'wb') as f: f.write(os.urandom(700000))
    with open(p('home', 'alice', 'notes.txt'), 'wb') as f: f.write(b'hello from xfs\n')
    os.link(p('home', 'alice', 'notes.txt'), p('home', 'alice', 'notes-link.txt'))
    os.symlink('docs/report.bin', p('home', 'alice', 'latest'))
    os.chown(p('home', 'alice'), 1000, 1000); os.chown(p('home', 'alice', 'notes.txt'), 1000, 100)
    os.chmod(p('home', 'alice', 'notes.txt'), 0o640)
    os.setxattr(p('home', 'alice', 'notes.txt'), 'user.comment', b'kept')
    subprocess.check_call(['setfacl', '-m', 'u:1001:r--', p('home', 'alice', 'notes.txt')])
    with open(p('sparse'), 'wb') as f: f.truncate(30 << 20); f.seek(10 << 20); f.write(b'island')
    os.mkfifo(p('fifo'))
    os.mknod(p('tty'), 0o600 | 0o020000, os.makedev(4, 1))
    os.mkdir(p('many'))
    for i in range(3000): open(p('many', 'file-%05d' % i), 'w').close()
    """#

    /// Every path below two roots: type, mode, owner, times in nanoseconds, size, link count
    /// within the tree, bytes, link targets and extended attributes, compared by python3.
    static let compare = #"""
    import os, stat, sys
    def walk(root):
        out = {}
        # lstat only, and everything before anything is read: following a link or reading a
        # file moves the destination's atimes (relatime), of hard links too.
        pending = ['']
        while pending:
            rel = pending.pop()
            for name in os.listdir(os.path.join(root, rel)):
                path = os.path.join(rel, name); full = os.path.join(root, path); st = os.lstat(full)
                xattrs = {n: os.getxattr(full, n, follow_symlinks=False) for n in os.listxattr(full, follow_symlinks=False)}
                out[path] = (st.st_mode, st.st_uid, st.st_gid, st.st_mtime_ns, st.st_atime_ns, st.st_nlink, st.st_rdev, sorted(xattrs.items()))
                if stat.S_ISDIR(st.st_mode): pending.append(path)
        for rel, entry in out.items():
            full = os.path.join(root, rel)
            if stat.S_ISLNK(entry[0]): out[rel] += (os.readlink(full),)
            elif stat.S_ISREG(entry[0]): out[rel] += (open(full, 'rb').read(),)
        return out
    a, b = walk(sys.argv[1]), walk(sys.argv[2])
    bad = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    for k in bad[:10]: print(k, str(a.get(k))[:300], str(b.get(k))[:300])
    print(len(a), 'paths')
    sys.exit(1 if bad or not a else 0)
    """#

    @Test func filesComeBackFromAnXFSPartition() throws {
        let cli = try CLIFixture()
        let directory = cli.directory
        let volume = try XFSImageBuilder.make(in: directory, size: 40 << 20, fill: Self.fill)
        let disk = try directory.image("xfs-disk.img", size: 48 << 20)
        try Shell.check("sgdisk", ["-o", "-n1:2048:+40M", "-t1:8300", "-c1:data", disk])
        try Shell.check("dd", ["if=\(volume)", "of=\(disk)", "bs=1M", "seek=1", "conv=notrunc", "status=none"])
        let id = String(try cli.expectSuccess(["create", "--kek", "backup", "--disk", disk, "--chunk-size", "64K"]).split(separator: "\n").last ?? "")

        let inspect = try cli.expectSuccess(["inspect", id])
        #expect(inspect.contains("XFS") && !inspect.contains("not supported"), "\(inspect)")
        let destination = directory.file("restored")
        try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
        let copied = try cli.run(["cp", "-R", "\(id):/disk0/part1", destination])
        #expect(copied.status == 0, "\(copied.stderr)")
        try XFSImageBuilder.withKernelMount(volume, in: directory) { mount in
            let listing = try cli.expectSuccess(["ls", "-R", "\(id):/disk0/part1/home"])
            let kernel = try Shell.check("bash", ["-c", "cd \"$1\" && ls -R", "ls", "\(mount)/home"])
            #expect(Set(listing.split(separator: "\n").filter { !$0.hasSuffix(":") && !$0.isEmpty }.map { $0.split(separator: "/").last ?? "" })
                == Set(kernel.split(separator: "\n").filter { !$0.hasSuffix(":") && !$0.isEmpty }.map { Substring($0) }), "\(listing)")
            let result = try Shell.run("python3", ["-c", Self.compare, mount, "\(destination)/part1"])
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        }
    }

    /// A volume backed up while mounted (here: shut down without writing its log back) is
    /// shown as it is on disk, and the first command that opens it says its log is not clean.
    @Test func aLogThatIsNotCleanIsNoted() throws {
        let cli = try CLIFixture()
        let volume = try XFSImageBuilder.make(in: cli.directory, size: 24 << 20, fill: """
            import os, subprocess, sys
            open(os.path.join(sys.argv[1], 'kept'), 'w').write('on disk')
            subprocess.check_call(['xfs_freeze', '-f', sys.argv[1]]); subprocess.check_call(['xfs_freeze', '-u', sys.argv[1]])
            open(os.path.join(sys.argv[1], 'late'), 'w').write('only in memory')
            subprocess.check_call(['xfs_io', '-x', '-c', 'shutdown -f', sys.argv[1]])
            """)
        let id = String(try cli.expectSuccess(["create", "--kek", "backup", "--disk", volume]).split(separator: "\n").last ?? "")
        let listing = try cli.run(["ls", "\(id):/disk0/volume"])
        #expect(listing.status == 0 && listing.stdout.split(separator: "\n").contains("kept"), "\(listing.stdout)\(listing.stderr)")
        #expect(listing.stderr.contains("disk0/volume: the XFS log is not clean"), "\(listing.stderr)")
        let clean = try XFSImageBuilder.make(in: cli.directory, name: "clean.img", size: 24 << 20, fill: "pass")
        let cleanID = String(try cli.expectSuccess(["create", "--kek", "backup", "--disk", clean]).split(separator: "\n").last ?? "")
        let quiet = try cli.run(["ls", "\(cleanID):/disk0/volume"])
        #expect(quiet.status == 0 && quiet.stderr.isEmpty, "\(quiet.stderr)")
    }
}
