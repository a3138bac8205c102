#!/usr/bin/env python3
"""Two SATA disks written and read at once, vireo-engine against QEMU 7.2
(-machine pc, its ICH9 AHCI, aio=threads and aio=io_uring), with the same
guest (tests/guest/ahci.elf "bench": one 64 KiB DMA command outstanding per
disk, 32 MiB sequential writes to each then a FLUSH CACHE EXT of both, then
32 MiB sequential reads of each) on two raw 64 MiB images in the page
cache. Per phase: rate between the guest's start and done lines over both
disks, and the VMM process's CPU (all threads, guest time included) per
GiB moved. Prints medians of N runs.
Usage: ahci-disks.py [--runs N] [--vmm NAME]... (vireo, qemu-threads,
qemu-uring; VIREO_ENGINE names another engine build, e.g. an older one)"""
import argparse
import os
import tempfile

import bench_disk

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
ENGINE = os.environ.get("VIREO_ENGINE", os.path.join(TOP, "build", "engine", "vireo-engine"))
GUEST = os.path.join(TOP, "build", "tests", "guest", "ahci.elf")
PHASES = ("seq-write", "seq-read")


def qemu(images, aio):
    cmd = ["qemu-system-x86_64", "-enable-kvm", "-machine", "pc", "-cpu", "host,-arch-capabilities",
           "-m", "256M", "-display", "none", "-nodefaults", "-serial", "stdio", "-no-reboot",
           "-kernel", GUEST, "-append", "bench", "-device", "ahci,id=ahci"]
    for i, image in enumerate(images):
        cmd += ["-drive", "file=%s,if=none,id=d%d,format=raw,aio=%s" % (image, i, aio),
                "-device", "ide-hd,drive=d%d,bus=ahci.%d" % (i, i)]
    return cmd


def commands(images):
    vireo = [ENGINE, "--kernel", GUEST, "--append", "bench", "--memory", "256M", "--serial", "stdio"]
    for image in images:
        vireo += ["--disk", image + ",bus=sata"]
    return {"vireo": vireo, "qemu-threads": qemu(images, "threads"), "qemu-uring": qemu(images, "io_uring")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--vmm", action="append", choices=("vireo", "qemu-threads", "qemu-uring"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        images = [os.path.join(tmp, "disk%d.img" % i) for i in range(2)]
        for image in images:
            with open(image, "wb") as f:
                f.truncate(64 << 20)
        results = {name: [bench_disk.run_once(cmd, PHASES) for _ in range(args.runs)]
                   for name, cmd in commands(images).items() if not args.vmm or name in args.vmm}
    bench_disk.report(results, PHASES)


if __name__ == "__main__":
    main()
