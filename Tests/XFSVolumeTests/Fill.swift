/// Fill scripts (python3, the mount point in sys.argv[1]) that make every kind of file and
/// every storage form the reader must handle, through the kernel's XFS.
enum Fill {
    /// Files of every type, names at the limits, times, owners, modes, xattrs in each fork
    /// form, ACLs, holes and unwritten extents, inline and remote symlinks.
    static let features = #"""
    import os, socket, subprocess, sys
    m = sys.argv[1]
    p = lambda *a: os.path.join(m, *a)
    def write(name, data):
        with open(p(name), 'wb') as f: f.write(data)
    write('empty', b'')
    write('small', b'hello xfs\n')
    write('large', os.urandom(3 << 20) + b'tail')
    os.link(p('small'), p('hardlink'))
    os.symlink('small', p('inline-link'))
    os.symlink('/'.join(['segment%03d' % i for i in range(90)]), p('remote-link'))
    os.symlink('x' * 1023, p('longest-link'))
    os.mknod(p('chr'), 0o620 | 0o020000, os.makedev(4, 65))
    os.mknod(p('blk'), 0o640 | 0o060000, os.makedev(259, 70000))
    os.mkfifo(p('fifo'))
    s = socket.socket(socket.AF_UNIX); s.bind(p('sock')); s.close()
    write('n' * 255, b'long name')
    write(b'\xff\xfe-latin1-\xe9'.decode('utf-8', 'surrogateescape'), b'not utf-8')
    write('sparse', b'')
    with open(p('sparse'), 'r+b') as f:
        f.truncate(50 << 20); f.seek(20 << 20); f.write(b'middle'); f.seek((50 << 20) - 3); f.write(b'end')
    with open(p('unwritten'), 'wb') as f:
        os.posix_fallocate(f.fileno(), 0, 8 << 20)
        f.seek(1 << 20); f.write(os.urandom(100000))
    os.makedirs(p('dir', 'sub', 'deeper'))
    write('dir/sub/deeper/file', b'deep')
    for i in range(10): write('dir/f%d' % i, b'%d' % i)
    write('owned', b'o'); os.chown(p('owned'), 1234, 5678); os.chmod(p('owned'), 0o4751)
    os.mkdir(p('sticky')); os.chmod(p('sticky'), 0o1777)
    write('timed', b't'); os.utime(p('timed'), ns=(981173106123456789, 1000000000 * 86400 * 365 * 30 + 999999999))
    write('old', b'o'); os.utime(p('old'), ns=(-1000000000 * 86400 * 365 * 60 + 5, 0))
    write('xattr-inline', b'x')
    os.setxattr(p('xattr-inline'), 'user.a', b'1'); os.setxattr(p('xattr-inline'), 'trusted.t', b'trusted value')
    os.setxattr(p('xattr-inline'), 'security.s', b'\x00\x01binary')
    write('xattr-leaf', b'x')
    for i in range(20): os.setxattr(p('xattr-leaf'), 'user.attr%02d' % i, os.urandom(100 + i))
    write('xattr-node', b'x')
    for i in range(600): os.setxattr(p('xattr-node'), 'user.many-attributes-%04d' % i, b'v' * (i % 50))
    write('xattr-remote', b'x')
    os.setxattr(p('xattr-remote'), 'user.big', os.urandom(5000)); os.setxattr(p('xattr-remote'), 'user.biggest', os.urandom(65536))
    os.setxattr(p('xattr-remote'), 'user.empty', b'')
    write('acl', b'a')
    subprocess.check_call(['setfacl', '-m', 'u:1000:rwx,g:100:r-x,m::rwx', p('acl')])
    os.mkdir(p('acl-dir'))
    subprocess.check_call(['setfacl', '-m', 'u:1001:rw-', '-d', '-m', 'u:1002:r-x,g:200:rwx', p('acl-dir')])
    write('acl-dir/inherits', b'i')
    os.symlink('dir/sub', p('dir-link'))
    subprocess.check_call(['cp', '--reflink=always', p('large'), p('reflinked')])
    with open(p('reflinked'), 'r+b') as f: f.seek(1 << 20); f.write(b'changed after the clone')
    """#

    /// A file of `blocks` blocks with every other one written: one extent per written block,
    /// more than an inode holds, so the map is a B-tree.
    static func everyOtherBlock(_ name: String, blocks: Int, blockSize: Int) -> String {
        """
        import os, sys
        f = os.open(os.path.join(sys.argv[1], '\(name)'), os.O_WRONLY | os.O_CREAT)
        for i in range(0, \(blocks), 2): os.pwrite(f, bytes([i % 251 + 1]) * \(blockSize), i * \(blockSize))
        os.close(f)
        """
    }
}
