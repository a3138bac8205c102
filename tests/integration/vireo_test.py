"""Shared helpers for the integration tests: find the engine and the images,
run the engine with its serial console on a pipe, wait for what the guest
prints, and report the way meson reads it (exit 0 pass, 77 skip, 1 fail)."""
import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77
_HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("VIREO_SOURCE_DIR", os.path.dirname(os.path.dirname(_HERE)))


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def skip(reason):
    print("SKIP: " + reason)
    sys.exit(SKIP)


def require_kvm():
    """Skips the test, in one line naming the limit, on a host where no guest
    can run: without /dev/kvm (its kernel offers no KVM) or without the
    permission to open it."""
    if not os.path.exists("/dev/kvm"):
        skip("this host has no /dev/kvm (its kernel offers no KVM), so no guest can run here")
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        skip("no permission to open /dev/kvm (join the 'kvm' group), so no guest can run here")


def engine_path():
    return os.environ.get("VIREO_ENGINE", os.path.join(SOURCE_DIR, "build", "engine", "vireo-engine"))


def guest_dir():
    return os.environ.get("VIREO_GUEST_DIR", os.path.join(SOURCE_DIR, "build", "tests", "guest"))


def images_dir():
    path = os.environ.get("VIREO_IMAGES")
    if not path or not os.path.isdir(path):
        fail("VIREO_IMAGES is not set to the guest images folder: run the suite through ./setup.sh test")
    return path


_host_can_run_linux = None


def scratch_image(size=1 << 20):
    """A zeroed raw disk image that is removed when the test ends."""
    tmp = tempfile.mkdtemp(prefix="vireo-test-")
    atexit.register(shutil.rmtree, tmp, True)
    path = os.path.join(tmp, "scratch.img")
    with open(path, "wb") as f:
        f.truncate(size)
    return path


def host_can_run_linux():
    """True when this host's KVM runs guest kernel code (tests/host-can-run-linux.sh)."""
    global _host_can_run_linux
    if _host_can_run_linux is None:
        probe = os.path.join(SOURCE_DIR, "tests", "host-can-run-linux.sh")
        env = dict(os.environ, VIREO_ENGINE=engine_path(), VIREO_GUEST_DIR=guest_dir())
        _host_can_run_linux = subprocess.run([probe, "-q"], env=env).returncode == 0
    return _host_can_run_linux


class Engine:
    """vireo-engine with COM1 on stdio: stdin is a pipe we write to, stdout is
    collected by a thread so wait_for() can match everything seen so far."""

    def __init__(self, args, env=None):
        self.args = [engine_path()] + list(args)
        self.env = dict(os.environ, **(env or {}))
        self._buffer = bytearray()
        self._lock = threading.Condition()
        self._closed = False

    def __enter__(self):
        self.proc = subprocess.Popen(self.args, env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._reader.join(5)
        return False

    def _read(self):
        while True:
            chunk = self.proc.stdout.read1(65536)
            with self._lock:
                if not chunk:
                    self._closed = True
                    self._lock.notify_all()
                    return
                self._buffer += chunk
                self._lock.notify_all()

    def output(self):
        with self._lock:
            return self._buffer.decode("utf-8", "replace")

    def wait_for(self, pattern, timeout):
        """The first match of pattern in all output so far, waiting up to timeout s."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                m = regex.search(self._buffer.decode("utf-8", "replace"))
                if m:
                    return m
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    break
                self._lock.wait(min(left, 1.0))
        err = self.proc.stderr.read().decode(errors="replace") if self.proc.poll() is not None else ""
        fail("no %r within %s s; last output:\n%s\nstderr: %s"
             % (pattern, timeout, self.output()[-2000:], err))

    def send(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            fail("engine still running after %s s; last output:\n%s" % (timeout, self.output()[-2000:]))
