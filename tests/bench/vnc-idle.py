#!/usr/bin/env python3
"""A still screen with a VNC viewer attached: the VMM's CPU use over 30 s
and the framebuffer bytes the viewer receives, vireo-engine against QEMU
(-machine pc -vga std -vnc), the same guest (tests/guest/vga.elf, which
draws 1024x768x32 through DISPI and then sleeps in HLT) and the same viewer
(tests/integration/vnc-probe, libvncclient, raw encoding, one incremental
request outstanding as viewers keep).
Usage: vnc-idle.py [--seconds N]"""
import argparse
import os
import sys

from vnc_common import VMMS, Probe, Vmm, guest


def cpu_seconds(pid):
    """CPU time of all the process's threads, in ns resolution (schedstat)."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass  # a thread that just ended
    return total / 1e9


def measure(name, seconds):
    vmm = Vmm(name, guest("vga"))
    try:
        vmm.wait_for("vga: 1024x768x32 drawn")
        probe = Probe(vmm)
        probe.ask("idle 2")  # the first full picture and any settling
        start = cpu_seconds(vmm.proc.pid)
        idle = probe.ask("idle %d" % seconds)[-1]
        cpu = cpu_seconds(vmm.proc.pid) - start
        probe.close()
    finally:
        vmm.stop()
    return cpu / seconds * 100, int(idle)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=30)
    args = ap.parse_args()
    print("%-8s %10s %22s" % ("vmm", "CPU %", "bytes sent while idle"))
    for name in VMMS:
        cpu, idle = measure(name, args.seconds)
        print("%-8s %9.3f%% %22d" % (name, cpu, idle))


if __name__ == "__main__":
    sys.exit(main())
