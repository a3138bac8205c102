#!/usr/bin/env python3
"""Debian's kernel and our busybox initramfs to a shell: the prompt, nproc,
free memory, and a clean power-off. Needs a host whose KVM runs guest kernel
code natively (VT-x/AMD-V); elsewhere it skips with one line naming the limit."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
import vireo_test as vt

PROMPT = r"~ # "


def main():
    if not vt.host_can_run_linux():
        vt.skip("host KVM cannot run a full Linux kernel (guest kernel code is emulated; "
                "int3 at CPL0 stops the guest)")
    images = vt.images_dir()
    args = ["--kernel", os.path.join(images, "vmlinuz"),
            "--initrd", os.path.join(images, "initramfs.cpio.gz"),
            "--append", "console=ttyS0 panic=-1", "--memory", "1G", "--cpus", "2"]
    with vt.Engine(args) as engine:
        engine.wait_for(r"vireo-initramfs: ready", 120)
        engine.wait_for(PROMPT, 30)
        engine.send(b"nproc\n")
        engine.wait_for(r"nproc\r?\n2\r?\n", 10)
        engine.send(b"free -m | grep Mem\n")
        m = engine.wait_for(r"Mem:\s+(\d+)", 10)
        if not 800 <= int(m.group(1)) <= 1024:
            vt.fail("guest sees %s MiB of memory, expected about 1024" % m.group(1))
        engine.send(b"poweroff -f\n")
        if engine.wait_exit(60) != 0:
            vt.fail("engine did not exit 0 after the guest powered off")
    print("ok: shell, nproc, free, poweroff")


if __name__ == "__main__":
    main()
