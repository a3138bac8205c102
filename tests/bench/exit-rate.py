#!/usr/bin/env python3
"""Exit cost: port-I/O exits per second of our engine running the `exits`
test guest, against raw-kvm-exits.c (a bare KVM_RUN loop, the limit).

For the engine the clock runs from the guest's "exits: start" line to its
"exits: done" line as they arrive on stdout, so process start-up is not
counted. Usage: exit-rate.py [--runs N]"""
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
GUEST = os.path.join(TOP, "build", "tests", "guest", "exits.elf")
RAW = os.path.join(TOP, "build", "raw-kvm-exits")


def engine_rate():
    p = subprocess.Popen([ENGINE, "--kernel", GUEST, "--memory", "64M"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, text=True)
    start = None
    for line in p.stdout:
        if line.startswith("exits: start"):
            start = time.monotonic()
        m = re.match(r"exits: done (\d+)", line)
        if m:
            elapsed = time.monotonic() - start
            p.wait()
            return int(m.group(1)) / elapsed
    sys.exit("exits guest did not finish")


def raw_rate():
    out = subprocess.run([RAW, "200000"], capture_output=True, text=True, check=True).stdout
    return float(re.search(r"([\d.]+) exits/s", out).group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    runs = ap.parse_args().runs
    subprocess.run(["cc", "-O2", "-o", RAW, os.path.join(HERE, "raw-kvm-exits.c")], check=True)
    raw = statistics.median(raw_rate() for _ in range(runs))
    ours = statistics.median(engine_rate() for _ in range(runs))
    print("%-22s %12s %12s" % ("", "exits/s", "us/exit"))
    print("%-22s %12.0f %12.2f" % ("raw KVM loop", raw, 1e6 / raw))
    print("%-22s %12.0f %12.2f" % ("vireo-engine", ours, 1e6 / ours))
    print("vireo exit cost is %.1f %% above the raw loop (target: within 10 %%)" % ((raw / ours - 1) * 100))


if __name__ == "__main__":
    main()
