#!/usr/bin/env python3
"""The engine's sandbox (engine/sandbox.c), on by default:

forbidden-call: with the test hook VIREO_TEST_SANDBOX_EXECVE set, the engine
  calls execve once it is set up (VNC listening, control socket bound). With
  the sandbox on, that kills it: status 1 and one line on stderr naming the
  call, and the program never runs. With --sandbox off the same hook runs
  the program, so the hook is real.
every-thread: a running engine (two vCPUs, VNC, the control interface, user
  networking) has the filter and no new privileges in every one of its
  threads, and its guest still answers on the serial line; with
  --sandbox off no thread has a filter.
stop-and-continue: stopped and continued (Ctrl+Z and fg), the engine goes on
  running its guest: calls a stop interrupted come back through
  restart_syscall, which the filter must allow.
change-to-device: the control interface changing a CD-ROM's disc to a block
  device (an unbound loop device) asks its size with an ioctl after set-up:
  the engine refuses the empty device with a message and goes on running
  its guest.
bad-value: --sandbox maybe is refused with one line and status 2.
"""
import os
import re
import signal
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import vireo_test as vt
from test_display import free_port

FORBIDDEN = re.compile(r"^vireo-engine: sandbox: forbidden system call \d+ \(execve\)\n$")
HOOK_RAN = "vireo-engine: test hook: execve ran"


def machine(folder, *extra):
    """A uart guest that waits for a byte, with everything set-up opens."""
    return ["--kernel", os.path.join(vt.guest_dir(), "uart.elf"), "--memory", "64M", "--no-reboot",
            "--display", "vnc=127.0.0.1:%d" % free_port(), "--control", os.path.join(folder, "control"),
            *extra]


def case_forbidden_call():
    with tempfile.TemporaryDirectory() as folder:
        with vt.Engine(machine(folder), env={"VIREO_TEST_SANDBOX_EXECVE": "1"}) as engine:
            status = engine.wait_exit(20)
            err = engine.proc.stderr.read().decode(errors="replace")
            if status != 1 or not FORBIDDEN.match(err):
                vt.fail("with the sandbox on: status %d, stderr %r; expected 1 and one line naming execve"
                        % (status, err))
            if HOOK_RAN in engine.output():
                vt.fail("the program the hook runs ran in spite of the sandbox")
        with vt.Engine(machine(folder, "--sandbox", "off"), env={"VIREO_TEST_SANDBOX_EXECVE": "1"}) as engine:
            engine.wait_for(re.escape(HOOK_RAN), 20)
            status = engine.wait_exit(20)
            if status != 0:
                vt.fail("with --sandbox off the hook's program ended with status %d" % status)


def thread_status(pid):
    """{thread id: (Seccomp, NoNewPrivs)} from /proc."""
    threads = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            fields = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
        threads[tid] = (fields["Seccomp"], fields["NoNewPrivs"])
    return threads


def running_threads(*extra):
    with tempfile.TemporaryDirectory() as folder:
        with vt.Engine(machine(folder, "--cpus", "2", "--net", "user", *extra)) as engine:
            engine.wait_for(r"uart: ready", 20)
            threads = thread_status(engine.proc.pid)
            engine.send(b"ping\n")
            engine.wait_for(r"uart: PASS", 20)
            if engine.wait_exit(20) != 0:
                vt.fail("engine did not end cleanly: %s" % engine.proc.stderr.read().decode(errors="replace"))
    if len(threads) < 4:  # main, I/O, two vCPUs, GDBus's worker
        vt.fail("only %d threads: %s" % (len(threads), threads))
    return threads


def case_every_thread():
    unfiltered = {tid: s for tid, s in running_threads().items() if s != ("2", "1")}
    if unfiltered:
        vt.fail("threads without the filter (Seccomp, NoNewPrivs): %s" % unfiltered)
    filtered = {tid: s for tid, s in running_threads("--sandbox", "off").items() if s[0] != "0"}
    if filtered:
        vt.fail("with --sandbox off, threads with a filter: %s" % filtered)


def case_stop_and_continue():
    with tempfile.TemporaryDirectory() as folder:
        with vt.Engine(machine(folder, "--cpus", "2")) as engine:
            engine.wait_for(r"uart: ready", 20)
            for _ in range(3):
                engine.proc.send_signal(signal.SIGSTOP)
                time.sleep(0.5)
                engine.proc.send_signal(signal.SIGCONT)
                time.sleep(0.5)
            if engine.proc.poll() is not None:
                vt.fail("the engine ended when stopped and continued: status %d, stderr %r"
                        % (engine.proc.returncode, engine.proc.stderr.read().decode(errors="replace")))
            engine.send(b"ping\n")
            engine.wait_for(r"uart: PASS", 20)
            status = engine.wait_exit(20)
            if status != 0:
                vt.fail("status %d after a stop: %s" % (status, engine.proc.stderr.read().decode(errors="replace")))


def readable_block_device():
    for n in range(8):
        path = "/dev/loop%d" % n
        if os.path.exists(path) and stat.S_ISBLK(os.stat(path).st_mode) and os.access(path, os.R_OK):
            return path
    vt.skip("no readable loop device to offer as a disc")


def case_change_to_device():
    device = readable_block_device()
    with tempfile.TemporaryDirectory() as folder:
        sock = os.path.join(folder, "control")
        with vt.Engine(machine(folder, "--disk", "empty,bus=sata,media=cdrom")) as engine:
            engine.wait_for(r"uart: ready", 20)
            r = subprocess.run([os.environ["VIREO_CTL"], sock, "change", device], capture_output=True,
                               text=True, timeout=30)
            if r.returncode == 0 or device not in r.stderr:
                vt.fail("changing the disc to %s should be refused naming it: %r" % (device, r.stderr))
            engine.send(b"ping\n")
            engine.wait_for(r"uart: PASS", 20)
            status = engine.wait_exit(20)
            if status != 0:
                vt.fail("status %d: %s" % (status, engine.proc.stderr.read().decode(errors="replace")))


def case_bad_value():
    with vt.Engine(["--sandbox", "maybe"]) as engine:
        status = engine.wait_exit(20)
        err = engine.proc.stderr.read().decode(errors="replace")
    if status != 2 or err.count("\n") != 1 or "--sandbox" not in err or "maybe" not in err:
        vt.fail("--sandbox maybe: status %d, stderr %r" % (status, err))


CASES = {name[5:].replace("_", "-"): fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    vt.require_kvm()
    CASES[sys.argv[1]]()
    print("ok: %s" % sys.argv[1])
