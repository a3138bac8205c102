"""What the side-by-side VNC benchmarks share: paths, the two VMMs'
command lines for the same test guest, a VMM whose serial lines are read
(and time-stamped) as they come, and the scripted viewer
(tests/integration/vnc-probe) driven one command per line."""
import os
import queue
import socket
import subprocess
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(TOP, "build")
ENGINE = os.environ.get("VIREO_ENGINE", os.path.join(BUILD, "engine", "vireo-engine"))
PROBE = os.path.join(BUILD, "tests", "integration", "vnc-probe")
VMMS = ("vireo", "qemu")


def guest(name):
    return os.path.join(BUILD, "tests", "guest", name + ".elf")


def free_port():
    """A free TCP port at or above 5900 (QEMU takes a display number)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port >= 5900:
            return port


def command(vmm, kernel, port):
    if vmm == "vireo":
        return [ENGINE, "--kernel", kernel, "--memory", "64M", "--display", "vnc=127.0.0.1:%d" % port]
    return ["qemu-system-x86_64", "-accel", "kvm", "-machine", "pc", "-cpu", "host,-arch-capabilities",
            "-m", "64M", "-vga", "std", "-display", "none", "-vnc", "127.0.0.1:%d" % (port - 5900),
            "-serial", "stdio", "-no-reboot", "-kernel", kernel]


class Vmm:
    """One VMM running `kernel` with VNC on a free port. A thread reads its
    serial lines and stamps each with time.monotonic() on arrival."""

    def __init__(self, vmm, kernel):
        self.name = vmm
        self.port = free_port()
        self.proc = subprocess.Popen(command(vmm, kernel, self.port), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put((time.monotonic(), line.decode(errors="replace").strip()))
        self.lines.put((time.monotonic(), None))

    def wait_for(self, text, timeout=120):
        """The (stamp, line) of the next line containing `text`."""
        deadline = time.monotonic() + timeout
        while True:
            stamp, line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.001))
            if line is None:
                raise RuntimeError("%s ended before %r" % (self.name, text))
            if "FAIL" in line:
                raise RuntimeError("%s: %s" % (self.name, line))
            if text in line:
                return stamp, line

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class Probe:
    """The scripted libvncclient viewer, connected to a Vmm."""

    def __init__(self, vmm):
        self.proc = subprocess.Popen([PROBE, "127.0.0.1", str(vmm.port)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.proc.stdout.readline()  # "connected W H"

    def ask(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().split()

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def median(values):
    s = sorted(values)
    n = len(s)
    return (s[n // 2] + s[(n - 1) // 2]) / 2 if n else float("nan")
