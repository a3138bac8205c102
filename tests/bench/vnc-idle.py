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
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(TOP, "build")
ENGINE = os.environ.get("VIREO_ENGINE", os.path.join(BUILD, "engine", "vireo-engine"))
GUEST = os.path.join(BUILD, "tests", "guest", "vga.elf")
PROBE = os.path.join(BUILD, "tests", "integration", "vnc-probe")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def commands(port):
    return {
        "vireo": [ENGINE, "--kernel", GUEST, "--memory", "64M", "--display", "vnc=127.0.0.1:%d" % port],
        "qemu": ["qemu-system-x86_64", "-enable-kvm", "-machine", "pc", "-cpu", "host,-arch-capabilities",
                 "-m", "64M", "-vga", "std", "-vnc", "127.0.0.1:%d" % (port - 5900), "-serial", "stdio",
                 "-no-reboot", "-kernel", GUEST],
    }


def measure(cmd, port, seconds):
    vmm = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    for line in vmm.stdout:
        if b"vga: 1024x768x32 drawn" in line:
            break
    probe = subprocess.Popen([PROBE, "127.0.0.1", str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    probe.stdout.readline()
    probe.stdin.write("idle 2\n")  # the first full picture and any settling
    probe.stdin.flush()
    probe.stdout.readline()
    start = cpu_seconds(vmm.pid)
    probe.stdin.write("idle %d\n" % seconds)
    probe.stdin.flush()
    idle = probe.stdout.readline().split()[-1]
    cpu = cpu_seconds(vmm.pid) - start
    probe.stdin.close()
    probe.wait()
    vmm.kill()
    vmm.wait()
    return cpu / seconds * 100, int(idle)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=30)
    args = ap.parse_args()
    print("%-8s %10s %22s" % ("vmm", "CPU %", "bytes sent while idle"))
    for name in ("vireo", "qemu"):
        port = free_port()
        while port < 5900:
            port = free_port()
        cpu, idle = measure(commands(port)[name], port, args.seconds)
        print("%-8s %9.3f%% %22d" % (name, cpu, idle))


if __name__ == "__main__":
    sys.exit(main())
