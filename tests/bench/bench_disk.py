"""What the disk benchmarks share: run a VMM whose guest prints
"bench: PHASE start" and "bench: PHASE done N requests of B bytes", time
each phase between those lines (wall and the VMM process's CPU, all
threads, guest time included), and print medians."""
import os
import re
import statistics
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def run_once(cmd, phases, env=None):
    """{phase: (seconds, cpu seconds, requests, bytes per request)}"""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, **(env or {})))
    done, started = {}, {}
    deadline = time.monotonic() + 300
    for raw in proc.stdout:
        line, now = raw.decode(errors="replace"), time.monotonic()
        m = re.search(r"bench: (\S+) start", line)
        if m:
            started[m.group(1)] = (now, cpu_seconds(proc.pid))
        m = re.search(r"bench: (\S+) done (\d+) requests of (\d+) bytes", line)
        if m:
            t0, c0 = started[m.group(1)]
            done[m.group(1)] = (now - t0, cpu_seconds(proc.pid) - c0, int(m.group(2)), int(m.group(3)))
        if "FAIL" in line or phases[-1] in done or now > deadline:
            break
    proc.kill()
    proc.wait()
    if len(done) != len(phases):
        sys.exit("%s: %s did not finish the benchmark" % (os.path.basename(sys.argv[0]), cmd[0]))
    return done


def report(results, phases):
    """results: {vmm: [run_once() of each run]}"""
    print("%-12s %-10s %12s %16s" % ("vmm", "phase", "rate", "CPU s per GiB"))
    for name, runs in results.items():
        for phase in phases:
            secs = statistics.median(r[phase][0] for r in runs)
            cpu = statistics.median(r[phase][1] for r in runs)
            count, size = runs[0][phase][2], runs[0][phase][3]
            gib = count * size / (1 << 30)
            rate = "%.0f IOPS" % (count / secs) if size == 4096 else "%.0f MiB/s" % (count * size / secs / (1 << 20))
            print("%-12s %-10s %12s %16.1f" % (name, phase, rate, cpu / gib))
