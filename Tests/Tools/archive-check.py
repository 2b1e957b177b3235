#!/usr/bin/env python3
"""The independent side of rpfs's archive tests: compares what an extractor made, or what a
zip holds as Python's zipfile reads it, with the source tree the point was built from.

    archive-check.py tree SOURCE EXTRACTED     every name, type, mode, owner, size, mtime,
                                               byte, symlink target, device, xattr (incl. ACLs)
                                               and hard-link group; holes stay holes
    archive-check.py zip ARCHIVE SOURCE TOP    every member against SOURCE (named TOP in the
                                               archive): names as bytes, mode, UT mtime,
                                               DOS time, bytes (CRC checked), symlink targets

Names are bytes throughout (os.fsencode): non-UTF-8 names are compared exactly. Prints one
line per difference and exits 1 if there is any.
"""
import os
import stat
import struct
import sys
import time
import zipfile

problems = []


def problem(text):
    problems.append(text)


def walk(root):
    """Relative path (bytes) -> lstat, for everything below root."""
    entries = {}
    for directory, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(directory, name)
            entries[os.path.relpath(full, root)] = os.lstat(full)
    return entries


def same_bytes(path, other, chunk=16 << 20):
    """Whether the file at path holds what the open file `other` holds, read side by side."""
    with open(path, "rb") as file:
        while True:
            block = file.read(chunk)
            if block != other.read(chunk):
                return False
            if not block:
                return True


def xattrs(path):
    return {name: os.getxattr(path, name, follow_symlinks=False) for name in os.listxattr(path, follow_symlinks=False)}


def compare_trees(source, extracted):
    source, extracted = os.fsencode(source), os.fsencode(extracted)
    ours, theirs = walk(source), walk(extracted)
    for missing in sorted(set(ours) - set(theirs)):
        problem(f"missing from the extraction: {missing!r}")
    for extra in sorted(set(theirs) - set(ours)):
        problem(f"not in the source: {extra!r}")
    groups_source, groups_extracted = {}, {}
    for relative in sorted(set(ours) & set(theirs)):
        a, b = ours[relative], theirs[relative]
        left, right = os.path.join(source, relative), os.path.join(extracted, relative)
        kind = stat.S_IFMT(a.st_mode)
        for field in ("st_mode", "st_uid", "st_gid"):
            if getattr(a, field) != getattr(b, field):
                problem(f"{relative!r}: {field} {getattr(a, field):o} != {getattr(b, field):o}")
        # Seconds: mke2fs -d keeps no nanoseconds (the tests check those on a file of their own).
        if kind != stat.S_IFLNK and a.st_mtime_ns // 10**9 != b.st_mtime_ns // 10**9:
            problem(f"{relative!r}: mtime {a.st_mtime_ns} != {b.st_mtime_ns}")
        if kind == stat.S_IFREG:
            if a.st_size != b.st_size:
                problem(f"{relative!r}: size {a.st_size} != {b.st_size}")
            else:
                with open(right, "rb") as other:
                    if not same_bytes(left, other):
                        problem(f"{relative!r}: bytes differ")
            if a.st_blocks * 512 < a.st_size and b.st_blocks * 512 >= b.st_size > 0:
                problem(f"{relative!r}: holes filled in ({b.st_blocks} blocks)")
            if a.st_nlink > 1:
                groups_source.setdefault(a.st_ino, set()).add(relative)
                groups_extracted.setdefault(b.st_ino, set()).add(relative)
        if kind == stat.S_IFLNK and os.readlink(left) != os.readlink(right):
            problem(f"{relative!r}: symlink target {os.readlink(left)!r} != {os.readlink(right)!r}")
        if kind in (stat.S_IFCHR, stat.S_IFBLK) and a.st_rdev != b.st_rdev:
            problem(f"{relative!r}: device {a.st_rdev:x} != {b.st_rdev:x}")
        if kind != stat.S_IFLNK and xattrs(left) != xattrs(right):
            problem(f"{relative!r}: xattrs {xattrs(left)!r} != {xattrs(right)!r}")
    if sorted(map(sorted, groups_source.values())) != sorted(map(sorted, groups_extracted.values())):
        problem(f"hard links: {sorted(map(sorted, groups_source.values()))} != {sorted(map(sorted, groups_extracted.values()))}")


def ut_mtime(extra):
    """The modification time in the 'UT' extra field (0x5455), or None."""
    offset = 0
    while offset + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, offset)
        if tag == 0x5455 and size >= 5 and extra[offset + 4] & 1:
            return struct.unpack_from("<i", extra, offset + 5)[0]
        offset += 4 + size
    return None


def member_bytes(info):
    """The name as the bytes the archive holds: UTF-8 when flagged, else zipfile's cp437."""
    return info.filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")


def check_zip(archive, source, top):
    source = os.fsencode(source)
    expected = {b"": os.lstat(source)}
    expected.update(walk(source))
    seen = set()
    with zipfile.ZipFile(archive) as zip_file:
        for info in zip_file.infolist():
            name = member_bytes(info).rstrip(b"/")
            prefix = os.fsencode(top)
            if name != prefix and not name.startswith(prefix + b"/"):
                problem(f"member outside {top!r}: {name!r}")
                continue
            relative = name[len(prefix) + 1:]
            if relative not in expected:
                problem(f"member not in the source: {name!r}")
                continue
            seen.add(relative)
            original = expected[relative]
            path = os.path.join(source, relative) if relative else source
            mode = info.external_attr >> 16
            if mode != original.st_mode:
                problem(f"{name!r}: mode {mode:o} != {original.st_mode:o}")
            if info.is_dir() != stat.S_ISDIR(original.st_mode):
                problem(f"{name!r}: directory flag wrong")
            seconds = int(original.st_mtime)
            if ut_mtime(info.extra) != seconds:
                problem(f"{name!r}: UT mtime {ut_mtime(info.extra)} != {seconds}")
            civil = time.gmtime(seconds)
            dos = (civil.tm_year, civil.tm_mon, civil.tm_mday, civil.tm_hour, civil.tm_min, civil.tm_sec // 2 * 2)
            if civil.tm_year >= 1980 and info.date_time != dos:
                problem(f"{name!r}: DOS time {info.date_time} != {dos}")
            if stat.S_ISREG(original.st_mode):
                with zip_file.open(info) as member:  # zipfile checks the CRC at the end
                    if info.file_size != original.st_size or not same_bytes(path, member):
                        problem(f"{name!r}: bytes differ ({info.file_size} vs {original.st_size})")
            if stat.S_ISLNK(original.st_mode) and zip_file.read(info) != os.readlink(path):
                problem(f"{name!r}: symlink target {zip_file.read(info)!r} != {os.readlink(path)!r}")
    for relative, info in expected.items():
        kind = stat.S_IFMT(info.st_mode)
        if relative not in seen and kind in (stat.S_IFREG, stat.S_IFDIR, stat.S_IFLNK):
            problem(f"missing from the zip: {relative!r}")
        if relative in seen and kind not in (stat.S_IFREG, stat.S_IFDIR, stat.S_IFLNK):
            problem(f"in the zip though zip cannot hold it: {relative!r}")


if __name__ == "__main__":
    if sys.argv[1] == "tree":
        compare_trees(sys.argv[2], sys.argv[3])
    else:
        check_zip(sys.argv[2], sys.argv[3], sys.argv[4])
    for line in problems:
        print(line)
    sys.exit(1 if problems else 0)
