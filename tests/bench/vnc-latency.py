#!/usr/bin/env python3
"""Time from a key press at the VNC viewer to the viewer having the pixels
the guest drew for it, vireo-engine against QEMU (-machine pc -vga std
-vnc), the same guest and the same viewer.

The guest (tests/guest/vga-bench.elf) takes the PS/2 keyboard on IRQ 1 and
sleeps in HLT; on each key press it fills a 32x32 square with the key's
colour and then prints "key XX" on COM1. The viewer
(tests/integration/vnc-probe, libvncclient, raw encoding) sends a key down
and up and takes updates until the square's last pixel has that colour,
timing it with CLOCK_MONOTONIC; before each press it waits a random 0 to
--pause ms (taking updates), so presses land anywhere in the servers'
refresh cycle, as a typist's do.

So the total is a round trip: RFB key event -> the VMM's input path -> the
guest's interrupt and drawing -> the VMM noticing the dirty framebuffer ->
the RFB update. This script splits it with the serial line: its arrival on
the VMM's stdout (time.monotonic(), the same clock) marks the last pixel
written. "input+guest" is key sent to that line, "display" is that line to
pixels at the viewer, the part that isolates framebuffer write to client.
The serial path itself (a few exits, a pipe) is counted in "input+guest".

Usage: vnc-latency.py [--runs 5] [--keys 40] [--pause 200]"""
import argparse
import sys

from vnc_common import VMMS, Probe, Vmm, guest, median


def one_run(name, keys, pause):
    vmm = Vmm(name, guest("vga-bench"))
    try:
        vmm.wait_for("vga-bench: keyboard ready")
        probe = Probe(vmm)
        probe.ask("idle 1")  # the first full picture and any settling
        reply = probe.ask("latency %d %d" % (keys, pause))
        probe.close()
        failed = int(reply[5])
        stamps = [float(v) for v in reply[6:]]
        total, split_in, split_out = [], [], []
        for i in range(keys):
            t0, t1 = stamps[2 * i], stamps[2 * i + 1]
            if t1 == 0:
                continue  # a press the viewer never saw drawn
            total.append((t1 - t0) * 1e3)
            if failed == 0:
                stamp, _ = vmm.wait_for("key ", timeout=5)
                split_in.append((stamp - t0) * 1e3)
                split_out.append((t1 - stamp) * 1e3)
    finally:
        vmm.stop()
    s = sorted(total)
    return {"median": median(total), "p95": s[max(0, -(-len(s) * 95 // 100) - 1)] if s else float("nan"),
            "input": median(split_in), "display": median(split_out), "failed": failed}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keys", type=int, default=40)
    ap.add_argument("--pause", type=int, default=200, help="most ms before each press (random from 0)")
    args = ap.parse_args()
    results = {name: [] for name in VMMS}
    for run in range(args.runs):
        for name in VMMS:  # alternate, so that drift on the host hits both
            r = one_run(name, args.keys, args.pause)
            results[name].append(r)
            print("run %d %-6s median %7.2f ms  p95 %7.2f ms  input+guest %6.2f ms  display %6.2f ms  failed %d"
                  % (run + 1, name, r["median"], r["p95"], r["input"], r["display"], r["failed"]), flush=True)
    print("\nmedian of %d runs, %d presses each, 0-%d ms apart" % (args.runs, args.keys, args.pause))
    print("%-8s %12s %12s %14s %12s" % ("vmm", "median ms", "p95 ms", "input+guest ms", "display ms"))
    for name in VMMS:
        rs = results[name]
        print("%-8s %12.2f %12.2f %14.2f %12.2f" % (name, median([r["median"] for r in rs]),
                                                    median([r["p95"] for r in rs]),
                                                    median([r["input"] for r in rs]),
                                                    median([r["display"] for r in rs])))


if __name__ == "__main__":
    sys.exit(main())
