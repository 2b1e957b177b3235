#!/usr/bin/python3
"""Writes the WofCompressedData stream and the reparse data of a WOF-compressed file (Windows'
"compact" system compression), with wimlib's compressors (libwim15) making the chunks.

    wof-compress.py ALGORITHM SOURCE STREAM_OUT

ALGORITHM is xpress4k, lzx, xpress8k or xpress16k. STREAM_OUT gets the stream: a table of
the offsets of chunks 1..N-1 (4 bytes each, 8 when the file is 4 GiB or more), relative to
the end of the table, then the chunks; a chunk that does not shrink is stored as it is.
Prints the reparse data (tag 0x80000017, WOF version 1, provider 2 = file, file provider
version 1, the algorithm) in hex, as ntfs-3g's system.ntfs_reparse_data takes it.
"""
import ctypes
import struct
import sys

ALGORITHMS = {"xpress4k": (0, 1, 4096), "lzx": (1, 2, 32768), "xpress8k": (2, 1, 8192), "xpress16k": (3, 1, 16384)}

name, source, output = sys.argv[1:4]
number, ctype, chunk_size = ALGORITHMS[name]
wimlib = ctypes.CDLL("libwim.so.15")
compressor = ctypes.c_void_p()
if wimlib.wimlib_create_compressor(ctype, ctypes.c_size_t(chunk_size), 0, ctypes.byref(compressor)) != 0:
    sys.exit("wimlib_create_compressor failed")
wimlib.wimlib_compress.restype = ctypes.c_size_t

data = open(source, "rb").read()
chunks = []
for start in range(0, len(data), chunk_size):
    chunk = data[start:start + chunk_size]
    room = ctypes.create_string_buffer(len(chunk))
    size = wimlib.wimlib_compress(chunk, ctypes.c_size_t(len(chunk)), room, ctypes.c_size_t(len(chunk) - 1), compressor)
    chunks.append(room.raw[:size] if size else chunk)
entry = "<Q" if len(data) >= 1 << 32 else "<I"
offsets, position = [], 0
for chunk in chunks[:-1]:
    position += len(chunk)
    offsets.append(struct.pack(entry, position))
with open(output, "wb") as stream:
    stream.write(b"".join(offsets) + b"".join(chunks))
body = struct.pack("<IIII", 1, 2, 1, number)
print((struct.pack("<IHH", 0x80000017, len(body), 0) + body).hex())
