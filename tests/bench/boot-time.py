#!/usr/bin/env python3
"""Boot time and memory, vireo-engine against QEMU (-machine microvm), both
booting Debian's vmlinux with the same memory and CPUs (vireo-engine through
the 64-bit boot protocol, QEMU through PVH).

For each run: wall time from process start to the kernel's first serial line
and to "smpboot: Allowing N CPUs"; at that line, the VMM's peak RSS (VmHWM)
and the resident size of the guest-RAM mapping (the anonymous VMA of the
guest's RAM size in /proc/PID/smaps). Their difference is the VMM's own
memory. The process is killed after the marker (on hosts whose KVM emulates
guest kernel code the kernel dies shortly after anyway).
Usage: boot-time.py [--runs N] [--memory 512M] [--cpus 2]"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
ENGINE = os.environ.get("VIREO_ENGINE", os.path.join(TOP, "build", "engine", "vireo-engine"))
CACHE = os.environ.get("VIREO_CACHE", os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "vireo"))
VMLINUX = os.path.join(os.environ.get("VIREO_IMAGES", os.path.join(CACHE, "images")), "vmlinux")
CMDLINE = "console=ttyS0 earlyprintk=ttyS0 loglevel=8"


def size_mib(text):
    return int(text[:-1]) * (1024 if text.endswith("G") else 1)


def qemu_cpu():
    """-cpu host, minus arch-capabilities where this host's KVM rejects that MSR
    (QEMU then fails at start with "failed to set MSR 0x10a")."""
    try:
        probe = subprocess.run(["qemu-system-x86_64", "-enable-kvm", "-machine", "microvm", "-cpu", "host",
                                "-display", "none", "-nodefaults", "-no-reboot", "-kernel", VMLINUX],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=3)
        rejected = "0x10a" in probe.stderr
    except subprocess.TimeoutExpired:
        rejected = False  # still running: plain -cpu host works here
    return "host,-arch-capabilities" if rejected else "host"


def commands(memory, cpus):
    return {
        "vireo": [ENGINE, "--kernel", VMLINUX, "--memory", memory, "--cpus", str(cpus), "--no-reboot",
                  "--serial", "stdio", "--append", CMDLINE],
        "qemu": ["qemu-system-x86_64", "-enable-kvm", "-machine", "microvm", "-cpu", qemu_cpu(),
                 "-m", memory, "-smp", str(cpus), "-display", "none", "-nodefaults", "-serial", "stdio",
                 "-no-reboot", "-kernel", VMLINUX, "-append", CMDLINE],
    }


def memory_kib(pid, ram_kib):
    """(peak RSS, RSS of the guest-RAM mapping) in KiB."""
    with open("/proc/%d/status" % pid) as f:
        hwm = int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1))
    guest, size = 0, None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            m = re.match(r"Size:\s+(\d+) kB", line)
            if m:
                size = int(m.group(1))
            m = re.match(r"Rss:\s+(\d+) kB", line)
            if m and size is not None and ram_kib <= size <= ram_kib + 4096:
                guest = max(guest, int(m.group(1)))
    return hwm, guest


def one_run(cmd, ram_kib):
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    first = allowing = None
    buf = b""
    while allowing is None:
        chunk = p.stdout.read1(65536)
        if not chunk:
            break
        buf += chunk
        if first is None and b"\n" in buf:
            first = time.monotonic() - t0
        if re.search(rb"smpboot: Allowing \d+ CPUs", buf):
            allowing = time.monotonic() - t0
    mem = memory_kib(p.pid, ram_kib) if allowing else (0, 0)
    p.kill()
    p.wait()
    if allowing is None:
        sys.exit("%s never printed 'Allowing N CPUs':\n%s" % (cmd[0], buf[-1000:].decode(errors="replace")))
    return first, allowing, mem


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--memory", default="512M")
    ap.add_argument("--cpus", type=int, default=2)
    args = ap.parse_args()
    ram_kib = size_mib(args.memory) * 1024
    print("%d runs, %s, %d CPUs, median (min-max)" % (args.runs, args.memory, args.cpus))
    print("%-6s %22s %22s %14s %14s %14s" % ("", "first line (s)", "Allowing CPUs (s)", "peak RSS MiB",
                                            "guest RAM MiB", "VMM own MiB"))
    for name, cmd in commands(args.memory, args.cpus).items():
        runs = [one_run(cmd, ram_kib) for _ in range(args.runs)]
        firsts, allows = [r[0] for r in runs], [r[1] for r in runs]
        hwm = statistics.median(r[2][0] for r in runs) / 1024
        guest = statistics.median(r[2][1] for r in runs) / 1024
        print("%-6s %8.2f (%5.2f-%5.2f) %8.2f (%5.2f-%5.2f) %14.1f %14.1f %14.1f" % (
            name, statistics.median(firsts), min(firsts), max(firsts), statistics.median(allows),
            min(allows), max(allows), hwm, guest, hwm - guest))


if __name__ == "__main__":
    main()
