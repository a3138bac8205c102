#!/usr/bin/env python3
"""virtio-blk throughput, vireo-engine against QEMU, with the same guest
(tests/guest/virtio-blk-bench.elf: our minimal virtio driver, queue depth 16)
on the same raw image: sequential 64 KiB writes and reads of 32 MiB and 4096
random 4 KiB reads. QEMU runs -machine pc (SeaBIOS assigns the BARs, then
PVH -kernel) with virtio-blk-pci,disable-legacy=on; both use the host page
cache. For each phase: wall time between the guest's start and done lines,
as MiB/s or IOPS, and the VMM process's CPU time (all threads, guest time
included) per GiB moved. Prints medians of N runs.
Usage: virtio-blk.py [--runs N]"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
ENGINE = os.environ.get("VIREO_ENGINE", os.path.join(TOP, "build", "engine", "vireo-engine"))
GUEST = os.path.join(TOP, "build", "tests", "guest", "virtio-blk-bench.elf")
TICK = os.sysconf("SC_CLK_TCK")


def commands(image):
    return {
        "vireo": [ENGINE, "--kernel", GUEST, "--memory", "256M", "--disk", image, "--serial", "stdio"],
        "qemu": ["qemu-system-x86_64", "-enable-kvm", "-machine", "pc", "-cpu", "host,-arch-capabilities",
                 "-m", "256M", "-display", "none", "-nodefaults", "-serial", "stdio", "-no-reboot",
                 "-kernel", GUEST, "-drive", "file=%s,if=none,id=d0,format=raw" % image,
                 "-device", "virtio-blk-pci,drive=d0,disable-legacy=on"],
    }


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def run_once(cmd):
    """{phase: (seconds, cpu seconds, requests, bytes per request)}"""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    phases, started = {}, {}
    deadline = time.monotonic() + 180
    for raw in proc.stdout:
        line, now = raw.decode(errors="replace"), time.monotonic()
        m = re.search(r"bench: (\S+) start", line)
        if m:
            started[m.group(1)] = (now, cpu_seconds(proc.pid))
        m = re.search(r"bench: (\S+) done (\d+) requests of (\d+) bytes", line)
        if m:
            t0, c0 = started[m.group(1)]
            phases[m.group(1)] = (now - t0, cpu_seconds(proc.pid) - c0, int(m.group(2)), int(m.group(3)))
        if "FAIL" in line or "rand-read done" in line or now > deadline:
            break
    proc.kill()
    proc.wait()
    if len(phases) != 3:
        sys.exit("virtio-blk.py: %s did not finish the benchmark" % cmd[0])
    return phases


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        image = os.path.join(tmp, "bench.img")
        with open(image, "wb") as f:
            f.truncate(64 << 20)
        results = {name: [run_once(cmd) for _ in range(args.runs)] for name, cmd in commands(image).items()}
    print("%-10s %-10s %12s %16s" % ("vmm", "phase", "rate", "CPU s per GiB"))
    for name, runs in results.items():
        for phase in ("seq-write", "seq-read", "rand-read"):
            secs = statistics.median(r[phase][0] for r in runs)
            cpu = statistics.median(r[phase][1] for r in runs)
            count, size = runs[0][phase][2], runs[0][phase][3]
            gib = count * size / (1 << 30)
            rate = "%.0f IOPS" % (count / secs) if size == 4096 else "%.0f MiB/s" % (count * size / secs / (1 << 20))
            print("%-10s %-10s %12s %16.1f" % (name, phase, rate, cpu / gib))


if __name__ == "__main__":
    main()
