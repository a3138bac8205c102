#!/usr/bin/env python3
"""Text-mode drawing speed: the time a guest takes to fill the 80x25 VGA
text screen 25 times (50 000 16-bit stores to 0xB8000, as a BIOS or boot
loader console draws), measured between its two COM1 lines. Side by side:
vireo-engine, vireo-engine with KVM's coalesced MMIO hidden (every store
exits to the engine, as before it was used), and QEMU -vga std, all on the
same direct-booted guest (tests/guest/vga-text-bench.elf), no viewer.
Usage: vga-text-writes.py [--runs N]"""
import argparse
import os
import sys

import vnc_common as vc

CONFIGS = {
    "vireo": ("vireo", {}),
    "vireo, coalescing off": ("vireo", {"VIREO_TEST_HIDE_KVM_CAP": "COALESCED_MMIO"}),
    "qemu": ("qemu", {}),
}


def one_run(vmm, env):
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        machine = vc.Vmm(vmm, vc.guest("vga-text-bench"))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    try:
        start, _ = machine.wait_for("vga-text-bench: start", 60)
        done, _ = machine.wait_for("vga-text-bench: done", 120)
        return done - start
    finally:
        machine.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print("%-24s %10s %10s %10s" % ("", "median", "min", "max"))
    for label, (vmm, env) in CONFIGS.items():
        times = [one_run(vmm, env) for _ in range(args.runs)]
        print("%-24s %8.1f ms %7.1f ms %7.1f ms" % (label, 1000 * vc.median(times), 1000 * min(times),
                                                   1000 * max(times)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
