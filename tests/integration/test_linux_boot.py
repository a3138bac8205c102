#!/usr/bin/env python3
"""Debian's real kernel on vireo-engine.

vmlinux MEMORY CPUS: the uncompressed vmlinux through the 64-bit boot
  protocol prints its banner, an e820 map that is exactly the RAM asked for (with the PCI hole
  below 4 GiB), and "Allowing N CPUs" for --cpus N.
bzimage: the bzImage through the 32-bit boot protocol starts executing: its
  decompressor finds "nokaslr" on the command line we passed in the zero page
  and says so on COM1, which earlyprintk=ttyS0 told it to use (unpacking the
  kernel proper takes minutes on hosts whose KVM emulates guest kernel code).
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
import vireo_test as vt

GIB = 1 << 30
MIB = 1 << 20


def parse_size(text):
    units = {"M": MIB, "G": GIB}
    return int(text[:-1]) * units[text[-1]]


def expected_e820(memory):
    """The map engine/boot/e820.c builds, as Linux prints it from the zero
    page (inclusive ends): the EBDA and the BIOS area reserved, the VGA
    window 0xA0000-0xDFFFF in no entry, as on a PC."""
    low = memory if memory <= 0xE0000000 else 0xC0000000
    rows = [
        (0x0, 0x9FBFF, "usable"),
        (0x9FC00, 0x9FFFF, "reserved"),
        (0xE0000, 0xFFFFF, "reserved"),
        (0x100000, low - 1, "usable"),
        (0xFEFFC000, 0xFEFFFFFF, "reserved"),
    ]
    if memory > low:
        rows.append((1 << 32, (1 << 32) + memory - low - 1, "usable"))
    return rows


def read_e820(engine):
    """The e820 block Linux prints at boot, once the line after it is out."""
    block = engine.wait_for(r"BIOS-provided physical RAM map:[^\n]*\n"
                            r"((?:[^\n]*BIOS-e820:[^\n]*\n)+)(?![^\n]*BIOS-e820)[^\n]*\n", 60)
    pattern = re.compile(r"BIOS-e820: \[mem 0x([0-9a-f]+)-0x([0-9a-f]+)\] (\w+)")
    return [(int(m.group(1), 16), int(m.group(2), 16), m.group(3))
            for m in pattern.finditer(block.group(1))]


def test_vmlinux(memory_text, cpus):
    memory = parse_size(memory_text)
    vmlinux = os.path.join(vt.images_dir(), "vmlinux")
    args = ["--kernel", vmlinux, "--memory", memory_text, "--cpus", str(cpus), "--no-reboot",
            "--append", "console=ttyS0 earlyprintk=ttyS0 loglevel=8 nokaslr"]
    with vt.Engine(args) as engine:
        engine.wait_for(r"Linux version \d+\.\d+\.\d+", 60)
        rows = read_e820(engine)
        want = expected_e820(memory)
        got = rows
        if got != want:
            vt.fail("e820 map differs:\n  want %s\n  got  %s" % (want, got))
        usable = sum(end - start + 1 for start, end, kind in got if kind == "usable")
        # RAM asked for, less the EBDA and 0xA0000-0xFFFFF, which PCs never give as RAM.
        if usable != memory - (0x100000 - 0x9FC00):
            vt.fail("usable RAM %d bytes, expected %d" % (usable, memory - 0x60400))
        m = engine.wait_for(r"smpboot: Allowing (\d+) CPUs", 240)
        if int(m.group(1)) != cpus:
            vt.fail("guest allows %s CPUs, expected %d" % (m.group(1), cpus))
    print("ok: banner, e820 (%s) and %d CPUs" % (memory_text, cpus))


def test_bzimage():
    vmlinuz = os.path.join(vt.images_dir(), "vmlinuz")
    args = ["--kernel", vmlinuz, "--memory", "512M", "--no-reboot",
            "--append", "console=ttyS0 earlyprintk=ttyS0 nokaslr"]
    with vt.Engine(args) as engine:
        engine.wait_for(r"KASLR disabled: 'nokaslr' on cmdline", 60)
    print("ok: the bzImage decompressor runs, reads our command line and prints on COM1")


if __name__ == "__main__":
    vt.require_kvm()
    if sys.argv[1] == "vmlinux":
        test_vmlinux(sys.argv[2], int(sys.argv[3]))
    else:
        test_bzimage()
