#!/usr/bin/python3
"""Writes a file's data as libfsntfs (python3-libfsntfs, with its own WOF decompressors)
reads it: the independent reader for rpfs's WOF tests.

    fsntfs-cat.py IMAGE PATH      PATH with '/' separators, from the volume's root
"""
import sys

import pyfsntfs

volume = pyfsntfs.volume()
volume.open(sys.argv[1])
entry = volume.get_file_entry_by_path("\\" + sys.argv[2].strip("/").replace("/", "\\"))
sys.stdout.buffer.write(entry.read())
