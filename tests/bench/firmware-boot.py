#!/usr/bin/env python3
"""Time to SeaBIOS's "No bootable device." with no disks: vireo-engine
(no kernel: firmware boot) against QEMU -machine pc, both with the standard
VGA, 256 MiB and the same vCPU count, Debian's bios-256k.bin and
vgabios-stdvga.bin.

For each run, from process start: when the debug console (port 0x402) log
shows the message, and when a VNC viewer first reads it off the text screen
(polled every 0.2 s, read in the VGA BIOS's own font). Then the VMM is killed.
Usage: firmware-boot.py [--runs N] [--cpus 2]"""
import argparse
import os
import select
import subprocess
import sys
import tempfile
import time

import vnc_common as vc

sys.path.insert(0, os.path.join(vc.TOP, "tests", "integration"))
import test_display as td  # noqa: E402  (read_text, font_shapes)
import test_firmware as tf  # noqa: E402

MESSAGE = "No bootable device"


def command(vmm, port, log, cpus):
    if vmm == "vireo":
        return [vc.ENGINE, "--memory", "256M", "--cpus", str(cpus), "--serial", "none",
                "--display", "vnc=127.0.0.1:%d" % port, "--firmware-log", log]
    return ["qemu-system-x86_64", "-machine", "pc", "-accel", "kvm", "-cpu", "host,-arch-capabilities",
            "-m", "256M", "-smp", str(cpus), "-vga", "std", "-display", "none",
            "-vnc", "127.0.0.1:%d" % (port - 5900), "-nodefaults", "-net", "none",
            "-chardev", "file,id=fwlog,path=" + log, "-device", "isa-debugcon,iobase=0x402,chardev=fwlog"]


class Probe:
    """vnc-probe with a deadline on every answer: a viewer that stalls (a
    VMM still starting, a screen being resized) is dropped and reconnected."""

    def __init__(self, port):
        self.proc = subprocess.Popen([vc.PROBE, "127.0.0.1", str(port)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.pending = b""
        self.ok = self.answer(5).startswith("connected")

    def answer(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                return ""
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                return ""
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return line.decode(errors="replace").strip()

    def ask(self, line, timeout=5):
        try:
            self.proc.stdin.write(line.encode() + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            return ""
        return self.answer(timeout)

    def close(self):
        self.proc.kill()
        self.proc.wait()


def screen_shows(probe, shapes):
    """Whether the text screen shows the message; None when the viewer should
    reconnect (it stalled, or QEMU left it at the size it connected with)."""
    if probe.ask("size 720 400 1") != "size 720 400":
        return None
    with tempfile.NamedTemporaryFile(suffix=".ppm") as f:
        if not probe.ask("dump " + f.name).startswith("dumped"):
            return None
        data = f.read()
    rgb = data[data.index(b"255\n") + 4:]
    return any(MESSAGE in line for line in td.read_text(rgb, 720, 400, shapes))


def one_run(vmm, cpus, shapes):
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "firmware.log")
        port = vc.free_port()
        start = time.monotonic()
        proc = subprocess.Popen(command(vmm, port, log, cpus), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        log_at = screen_at = None
        probe = None
        try:
            while (log_at is None or screen_at is None) and time.monotonic() - start < 120:
                if log_at is None and os.path.exists(log) and MESSAGE in open(log, errors="replace").read():
                    log_at = time.monotonic() - start
                if probe is None and screen_at is None:
                    probe = Probe(port)
                shown = probe.ok and screen_shows(probe, shapes) if probe else False
                if shown:
                    screen_at = time.monotonic() - start
                if probe and (shown or shown is None or not probe.ok):
                    probe.close()
                    probe = None
                time.sleep(0.2)
        finally:
            if probe:
                probe.close()
            proc.kill()
            proc.wait()
        return log_at, screen_at


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cpus", type=int, default=2)
    args = ap.parse_args()
    shapes = tf.vgabios_shapes()
    print("time to %r (s), median of %d runs, %d vCPUs, 256 MiB" % (MESSAGE, args.runs, args.cpus))
    for vmm in vc.VMMS:
        runs = [one_run(vmm, args.cpus, shapes) for _ in range(args.runs)]
        logs = [r[0] for r in runs if r[0] is not None]
        screens = [r[1] for r in runs if r[1] is not None]
        print("  %-6s debug log %6.2f   screen %6.2f   (all: %s)" % (
            vmm, vc.median(logs), vc.median(screens),
            ", ".join("%s/%s" % tuple("%.2f" % v if v is not None else "-" for v in r) for r in runs)))


if __name__ == "__main__":
    main()
