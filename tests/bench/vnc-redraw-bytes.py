#!/usr/bin/env python3
"""Bytes on the wire for a full 1024x768x32 redraw, per encoding, vireo-engine
against QEMU (-machine pc -vga std -vnc), the same guest and the same viewer.

The guest (tests/guest/vga-bench.elf) draws a desktop-like picture: a
diagonal gradient wallpaper, icon squares, a window with a shaded title
bar and a page of text-like glyphs in four colours. For each encoding a
fresh viewer (tests/integration/vnc-probe's redraw command, libvncclient,
32 bpp, JPEG off so every encoding is lossless) connects offering only that
encoding, and its first update, the whole screen asked for
non-incrementally as on every connection, is counted: the kernel's count of
bytes received on its socket (TCP_INFO tcpi_bytes_received; the RFB
handshake's few dozen bytes included). Every picture received is checked
against the raw one, so an encoding only counts when it delivered the same
pixels. An encoding a server does not take falls back to raw; a size within
10 % of raw's is reported as that.

Usage: vnc-redraw-bytes.py [--runs 5]"""
import argparse
import os
import sys
import tempfile

from vnc_common import VMMS, Probe, Vmm, guest, median

ENCODINGS = ("raw", "hextile", "zlib", "zrle", "tight")


def measure(name, runs, tmp):
    """{encoding: ([bytes per run], [ms from connecting to the picture per run])}; raises if a picture differs."""
    vmm = Vmm(name, guest("vga-bench"))
    results = {enc: ([], []) for enc in ENCODINGS}
    try:
        vmm.wait_for("vga-bench: keyboard ready")
        probe = Probe(vmm)
        probe.ask("idle 1")
        reference = os.path.join(tmp, "reference.ppm")
        for run in range(runs):
            for enc in ENCODINGS:
                path = reference if not os.path.exists(reference) else os.path.join(tmp, "%s-%s.ppm" % (name, enc))
                reply = probe.ask("redraw %s %s" % (enc, path))
                if reply[0] != "redraw-bytes" or reply[2:4] != ["1024", "768"]:
                    raise RuntimeError("%s %s: %s" % (name, enc, " ".join(reply)))
                if path != reference and open(path, "rb").read() != open(reference, "rb").read():
                    raise RuntimeError("%s %s: the picture differs from the reference" % (name, enc))
                if int(reply[1]) > 1.5 * 1024 * 768 * 4:
                    raise RuntimeError("%s %s: more than one raw picture's bytes: %s" % (name, enc, reply[1]))
                results[enc][0].append(int(reply[1]))
                results[enc][1].append(float(reply[5]))
        probe.close()
    finally:
        vmm.stop()
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        table = {name: measure(name, args.runs, tmp) for name in VMMS}
    print("bytes for one full 1024x768x32 picture (3 MiB raw), median of %d; ms: connect to picture" % args.runs)
    print("%-10s" % "encoding" + "".join("%14s %8s" % (name + " bytes", "ms") for name in VMMS))
    best = {}
    for enc in ENCODINGS:
        row = "%-10s" % enc
        for name in VMMS:
            b, ms = median(table[name][enc][0]), median(table[name][enc][1])
            raw = median(table[name]["raw"][0])
            fallback = enc != "raw" and b > 0.9 * raw
            row += "%14d %8.1f" % (b, ms) + (" (raw?)" if fallback else "")
            if not fallback and (name not in best or b < best[name][1]):
                best[name] = (enc, b)
        print(row)
    for name in VMMS:
        print("best %-6s %-8s %d bytes (%.1f %% of raw)" % (name, best[name][0], best[name][1],
                                                         100 * best[name][1] / median(table[name]["raw"][0])))


if __name__ == "__main__":
    sys.exit(main())
