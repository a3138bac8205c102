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
import tempfile

import bench_disk

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
ENGINE = os.environ.get("VIREO_ENGINE", os.path.join(TOP, "build", "engine", "vireo-engine"))
GUEST = os.path.join(TOP, "build", "tests", "guest", "virtio-blk-bench.elf")
PHASES = ("seq-write", "seq-read", "rand-read")


def commands(image):
    return {
        "vireo": [ENGINE, "--kernel", GUEST, "--memory", "256M", "--disk", image, "--serial", "stdio"],
        "qemu": ["qemu-system-x86_64", "-enable-kvm", "-machine", "pc", "-cpu", "host,-arch-capabilities",
                 "-m", "256M", "-display", "none", "-nodefaults", "-serial", "stdio", "-no-reboot",
                 "-kernel", GUEST, "-drive", "file=%s,if=none,id=d0,format=raw" % image,
                 "-device", "virtio-blk-pci,drive=d0,disable-legacy=on"],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        image = os.path.join(tmp, "bench.img")
        with open(image, "wb") as f:
            f.truncate(64 << 20)
        results = {name: [bench_disk.run_once(cmd, PHASES) for _ in range(args.runs)] for name, cmd in commands(image).items()}
    bench_disk.report(results, PHASES)


if __name__ == "__main__":
    main()
