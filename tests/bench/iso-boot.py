#!/usr/bin/env python3
"""Booting an ISO through SeaBIOS: wall time from process start to the
guest's first line on COM1, vireo-engine (--cdrom, firmware boot) against
QEMU (-machine pc -cdrom), the same El Torito ISO (our boot program,
tests/guest/boot/, which prints "VIREO BOOT drive=e0 bps=2048" as soon as
it runs), 256 MiB, one vCPU, the standard VGA, no viewer. Debian's
bios-256k.bin and vgabios-stdvga.bin in both.
Usage: iso-boot.py [--runs N]"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import vnc_common as vc

sys.path.insert(0, os.path.join(vc.TOP, "tests", "integration"))
import test_bootprog as tb  # noqa: E402  (the boot program's CD image)

MARKER = b"VIREO BOOT"


def command(vmm, iso):
    if vmm == "vireo":
        return [vc.ENGINE, "--memory", "256M", "--cdrom", iso, "--serial", "stdio", "--display", "none"]
    return ["qemu-system-x86_64", "-machine", "pc", "-accel", "kvm", "-cpu", "host,-arch-capabilities",
            "-m", "256M", "-vga", "std", "-display", "none", "-nodefaults", "-net", "none",
            "-cdrom", iso, "-serial", "stdio"]


def one_run(vmm, iso):
    start = time.monotonic()
    proc = subprocess.Popen(command(vmm, iso), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    try:
        seen = b""
        while MARKER not in seen:
            chunk = proc.stdout.read1(4096)
            if not chunk:
                raise RuntimeError("%s ended before the boot program ran" % vmm)
            seen += chunk
        return time.monotonic() - start
    finally:
        proc.kill()
        proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        iso, _ = tb.cd_image(tmp, os.urandom(64 << 10))
        print("time to the boot program's first line (s), %d runs" % args.runs)
        for vmm in vc.VMMS:
            runs = [one_run(vmm, iso) for _ in range(args.runs)]
            print("  %-6s median %5.2f   min %5.2f   max %5.2f" % (vmm, vc.median(runs), min(runs), max(runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
