#!/usr/bin/env python3
"""Extracts the uncompressed kernel ELF from a bzImage: finds the compressed
payload by its magic bytes, decompresses it, and checks that the result is an
ELF with a PVH entry note (Xen note type 18), which PVH boot needs."""
import lzma
import shutil
import struct
import subprocess
import sys
import zlib

MAGICS = [
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x1f\x8b\x08", "gzip"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
]


def decompress(data, kind):
    if kind == "xz":
        return lzma.LZMADecompressor().decompress(data)
    if kind == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data)
    if not shutil.which("zstd"):
        raise ValueError("zstd is not installed")
    return subprocess.run(["zstd", "-dc"], input=data, capture_output=True).stdout


def has_pvh_note(elf):
    if elf[:4] != b"\x7fELF" or elf[4] != 2:
        return False
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", elf, phoff + i * phentsize)
        pos, end = p_offset, p_offset + p_filesz
        while p_type == 4 and pos + 12 <= end:  # PT_NOTE
            namesz, descsz, ntype = struct.unpack_from("<III", elf, pos)
            name = elf[pos + 12:pos + 12 + namesz]
            if ntype == 18 and name == b"Xen\x00":
                return True
            pos += 12 + (namesz + 3) // 4 * 4 + (descsz + 3) // 4 * 4
    return False


def main(src, dst):
    data = open(src, "rb").read()
    for magic, kind in MAGICS:
        start = data.find(magic)
        while start >= 0:
            try:
                elf = decompress(data[start:], kind)
            except (lzma.LZMAError, zlib.error, ValueError, EOFError, OSError):
                elf = b""
            if elf[:4] == b"\x7fELF":
                if not has_pvh_note(elf):
                    sys.exit("extract-vmlinux: %s has no PVH entry note (CONFIG_PVH)" % src)
                open(dst, "wb").write(elf)
                return
            start = data.find(magic, start + 1)
    sys.exit("extract-vmlinux: no compressed ELF kernel found in %s" % src)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
