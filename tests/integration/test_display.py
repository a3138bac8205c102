#!/usr/bin/env python3
"""The guest screen and input through the engine's VNC server, seen by a real
RFB client (vnc-probe, on libvncclient). Usage: test_display.py CASE"""
import os
import ctypes
import re
import resource
import select
import shutil
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import vireo_test as vt

sys.path.insert(0, os.path.join(vt.SOURCE_DIR, "engine", "hw"))
import psf2vga  # noqa: E402  (the font the VGA preloads, to read text back)

FONT = "/usr/share/consolefonts/default8x16.psf.gz"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Probe:
    """vnc-probe, one command and one answer at a time."""

    def __init__(self, port, password=None, retry_seconds=10, host="127.0.0.1"):
        """Connects, retrying while the engine is still starting its server;
        host may be a UNIX socket's path (libvncclient connects to one)."""
        cmd = [os.environ["VIREO_VNC_PROBE"], host, str(port)] + ([password] if password else [])
        deadline = time.monotonic() + retry_seconds
        while True:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True)
            self.greeting = self.proc.stdout.readline().strip()
            if self.greeting.startswith("connected") or time.monotonic() > deadline:
                break
            self.proc.wait()
            time.sleep(0.2)

    def ask(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        if not answer:
            vt.fail("vnc-probe died on %r: %s" % (line, self.proc.stderr.read()))
        return answer

    def screen(self, width, height, seconds=30, settle=0.3):
        if self.ask("size %d %d %d" % (width, height, seconds)) != "size %d %d" % (width, height):
            vt.fail("the viewer never got a %dx%d desktop" % (width, height))
        self.ask("idle %g" % settle)  # the server's refresh runs every 33 ms: let the last writes in
        with tempfile.NamedTemporaryFile(suffix=".ppm") as f:
            self.ask("dump " + f.name)
            data = f.read()
        header_end = data.index(b"255\n") + 4
        return data[header_end:]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(10)


def boot_with_vnc(guest, *extra, display_options=""):
    port = free_port()
    args = ["--kernel", os.path.join(vt.guest_dir(), guest + ".elf"), "--memory", "64M",
            "--display", "vnc=127.0.0.1:%d%s" % (port, display_options), *extra]
    return vt.Engine(args), port


def pixel(rgb, width, x, y):
    i = 3 * (y * width + x)
    return tuple(rgb[i:i + 3])


def check_image(rgb, width, height, expected, what):
    """expected(x, y) -> (r, g, b); fails at the first pixel that differs."""
    for y in range(height):
        for x in range(width):
            got = pixel(rgb, width, x, y)
            if got != expected(x, y):
                vt.fail("%s: pixel (%d,%d) is %s, expected %s" % (what, x, y, got, expected(x, y)))


def pattern32(x, y):
    """tests/guest/vga.c's 1024x768x32 picture."""
    if x % 64 == 0 or y % 64 == 0:
        return (0, 0, 0)
    return [[(255, 0, 0), (0, 255, 0)], [(0, 0, 255), (255, 255, 255)]][y >= 384][x >= 512]


def expand565(r5, g6, b5):
    return (r5 << 3 | r5 >> 2, g6 << 2 | g6 >> 4, b5 << 3 | b5 >> 2)


def pattern16(x, y):
    """tests/guest/vga.c's 800x600x16 bars, as 8-bit channels."""
    if y % 100 == 0:
        return expand565(31, 63, 31)
    bar = x // 100
    return expand565(31 if bar & 4 else 0, 63 if bar & 2 else 0, 31 if bar & 1 else 0)


def case_vnc_unix():
    """--display vnc=unix:PATH: a socket only its user may open (mode 0600),
    where a viewer sees the guest's picture pixel for pixel; the control
    interface names it, and it is gone when the engine ends. Under the
    engine's default seccomp sandbox, so accepting there is allowed."""
    tmp = tempfile.mkdtemp()
    path, control = os.path.join(tmp, "screen.sock"), os.path.join(tmp, "control.sock")
    engine = vt.Engine(["--kernel", os.path.join(vt.guest_dir(), "vga.elf"), "--memory", "64M",
                        "--display", "vnc=unix:" + path, "--control", control])
    with engine:
        engine.wait_for(r"vga: 1024x768x32 drawn", 60)
        mode = os.stat(path).st_mode
        if not stat.S_ISSOCK(mode) or stat.S_IMODE(mode) != 0o600:
            vt.fail("%s has mode %o, not a socket with mode 600" % (path, mode))
        info = subprocess.run([os.environ["VIREO_CTL"], control, "info"], capture_output=True, text=True,
                              timeout=30).stdout
        if "display vnc:unix:%s\n" % path not in info:
            vt.fail("vireo-ctl info does not name the socket: %r" % info)
        probe = Probe(0, host=path)
        check_image(probe.screen(1024, 768), 1024, 768, pattern32, "1024x768x32 over a UNIX socket")
        probe.close()
        engine.send(b"\n")
        engine.send(b"\n")
        if engine.wait_exit(20) != 0:
            vt.fail("engine did not end cleanly")
    if os.path.exists(path):
        vt.fail("the engine left its VNC socket behind")
    shutil.rmtree(tmp)


def case_dispi_modes():
    """1024x768x32 then 800x600x16 set through DISPI as bochs-drm does: one
    viewer sees each as a desktop resize with exact pixels, and nothing is
    sent while the screen stands still."""
    engine, port = boot_with_vnc("vga")
    with engine:
        probe = Probe(port)
        engine.wait_for(r"vga: 1024x768x32 drawn", 60)
        check_image(probe.screen(1024, 768), 1024, 768, pattern32, "1024x768x32")
        idle = probe.ask("idle 2")
        if idle != "idle-bytes 0":
            vt.fail("a still screen sent framebuffer data: %s" % idle)
        engine.send(b"\n")
        engine.wait_for(r"vga: 800x600x16 drawn", 60)
        check_image(probe.screen(800, 600), 800, 600, pattern16, "800x600x16")
        engine.send(b"\n")
        if engine.wait_exit(20) != 0:
            vt.fail("engine did not end cleanly")
        probe.close()


def font_shapes(glyphs):
    """{16-row glyph bitmap: character} for printable ASCII; glyphs(code) gives a code's rows or None."""
    shapes = {}
    for code in range(0x20, 0x7F):
        g = glyphs(code)
        if g is not None:
            shapes.setdefault(bytes(g), chr(code))
    return shapes


def console_font_shapes():
    """The shapes of the font the VGA preloads (Debian's default8x16)."""
    glyphs, first_glyph = psf2vga.read_font(FONT)
    return font_shapes(lambda code: glyphs[first_glyph[psf2vga.cp437_unicode(code)]]
                       if psf2vga.cp437_unicode(code) in first_glyph else None)


def read_text(rgb, width, height, shapes=None):
    """The text on a 9x16-cell screen, matched glyph for glyph against the
    font (by default the one the VGA preloads; a guest may load its own)."""
    shapes = shapes or console_font_shapes()
    lines = []
    for row in range(height // 16):
        line = ""
        for col in range(width // 9):
            x0, y0 = col * 9, row * 16
            background = pixel(rgb, width, x0 + 8, y0)
            bits = bytes(sum((pixel(rgb, width, x0 + i, y0 + r) != background) << (7 - i) for i in range(8))
                         for r in range(16))
            line += shapes.get(bits, "?")
        lines.append(line.rstrip())
    return lines


def case_text_mode():
    """Text written to 0xB8000 in the VGA's default 80x25 mode reads back from
    the viewer's pixels, in white on blue. Row 4, written just before the
    guest sleeps without another exit, shows too: the refresh applies the
    stores KVM queued (coalesced MMIO)."""
    engine, port = boot_with_vnc("vga-text")
    with engine:
        probe = Probe(port)
        engine.wait_for(r"vga-text: written", 30)
        deadline = time.monotonic() + 20
        while True:
            rgb = probe.screen(720, 400)
            text = read_text(rgb, 720, 400)
            if text[4].startswith("Written before sleeping"):
                break
            if time.monotonic() > deadline:
                vt.fail("row 4 reads %r: the stores before HLT never reached the screen" % text[4])
            time.sleep(0.2)
        if not text[0].startswith("Hello from Vireo"):
            vt.fail("row 0 reads %r" % text[0])
        if pixel(rgb, 720, 8, 0) != (0, 0, 0xAA):
            vt.fail("the background of 'H' is %s, not VGA blue" % (pixel(rgb, 720, 8, 0),))
        engine.send(b"\n")
        engine.wait_exit(20)
        probe.close()


def case_password():
    """With a password file, a viewer without the password is refused and one
    with it is let in."""
    with tempfile.NamedTemporaryFile("w", suffix=".pw") as pw:
        pw.write("s3cret\n")
        pw.flush()
        engine, port = boot_with_vnc("vga-text", display_options=",password-file=" + pw.name)
        with engine:
            engine.wait_for(r"vga-text: written", 30)
            wrong = Probe(port, "wrong", retry_seconds=0)
            if wrong.greeting.startswith("connected"):
                vt.fail("a wrong password was accepted")
            right = Probe(port, "s3cret")
            if not right.greeting.startswith("connected"):
                vt.fail("the right password was refused")
            second = Probe(port, "s3cret")  # several viewers at once
            if not second.greeting.startswith("connected"):
                vt.fail("a second viewer was refused")
            right.screen(720, 400)
            second.screen(720, 400)
            engine.send(b"\n")
            engine.wait_exit(20)
            right.close()
            second.close()


def check_sampled(rgb, width, height, expected, what):
    """check_image on every 7th row and 5th column: quick enough for many viewers."""
    for y in range(0, height, 7):
        for x in range(0, width, 5):
            if pixel(rgb, width, x, y) != expected(x, y):
                vt.fail("%s: pixel (%d,%d) is %s, expected %s" % (what, x, y, pixel(rgb, width, x, y), expected(x, y)))


def case_viewer_cap():
    """Eight viewers at once each get the screen; a ninth is refused (closed
    as it connects) while the eight stay connected and still get updates:
    the guest's next mode reaches every one of them, pixel for pixel. One
    leaving makes room for another."""
    engine, port = boot_with_vnc("vga")
    with engine:
        engine.wait_for(r"vga: 1024x768x32 drawn", 60)
        viewers = [Probe(port) for _ in range(8)]
        for i, viewer in enumerate(viewers):
            if not viewer.greeting.startswith("connected"):
                vt.fail("viewer %d of 8 was refused: %r" % (i + 1, viewer.greeting))
        ninth = Probe(port, retry_seconds=0)
        if ninth.greeting.startswith("connected"):
            vt.fail("a ninth viewer was let in")
        ninth.proc.wait(10)
        engine.send(b"\n")
        engine.wait_for(r"vga: 800x600x16 drawn", 60)
        for i, viewer in enumerate(viewers):
            check_sampled(viewer.screen(800, 600), 800, 600, pattern16, "viewer %d, 800x600x16" % (i + 1))
        viewers.pop().close()
        again = Probe(port)  # retries until the server has seen the other one go
        if not again.greeting.startswith("connected"):
            vt.fail("no room for a viewer after one of eight left: %r" % again.greeting)
        check_sampled(again.screen(800, 600), 800, 600, pattern16, "the viewer that took the place")
        engine.send(b"\n")
        if engine.wait_exit(20) != 0:
            vt.fail("engine did not end cleanly")
        for viewer in viewers + [again]:
            viewer.close()


def raw_connection(port):
    """A TCP connection that never speaks RFB, and what the server sent it
    first: its ProtocolVersion ("RFB 003.008\\n") when it holds the
    connection, b"" when it closed it at once."""
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(10)
    try:
        return s, s.recv(12)
    except ConnectionResetError:
        return s, b""


def case_handshake_cap():
    """Connections that never finish the RFB handshake: the server holds
    four (a fifth on is closed at once), a viewer arriving meanwhile is
    refused, the viewer already connected keeps getting updates, and the
    four are dropped 10 s on, after which a viewer connects again."""
    engine, port = boot_with_vnc("vga")
    with engine:
        viewer = Probe(port)
        engine.wait_for(r"vga: 1024x768x32 drawn", 60)
        check_sampled(viewer.screen(1024, 768), 1024, 768, pattern32, "before the flood")
        start = time.monotonic()
        held, closed = [], 0
        for _ in range(10):
            s, first = raw_connection(port)
            if first.startswith(b"RFB "):
                held.append(s)
            else:
                closed += 1
                s.close()
        if (len(held), closed) != (4, 6):
            vt.fail("of 10 silent connections the server held %d and closed %d (expected 4 and 6)"
                    % (len(held), closed))
        late = Probe(port, retry_seconds=0)
        if late.greeting.startswith("connected"):
            vt.fail("a viewer got in beside 4 unfinished handshakes")
        engine.send(b"\n")
        engine.wait_for(r"vga: 800x600x16 drawn", 60)
        check_sampled(viewer.screen(800, 600), 800, 600, pattern16, "the viewer during the flood")
        for s in held:
            s.settimeout(max(0.1, start + 30 - time.monotonic()))
            try:
                if s.recv(1) != b"":
                    vt.fail("the server sent more to a connection that never answered")
            except socket.timeout:
                vt.fail("a connection that never spoke was still held after %.1f s" % (time.monotonic() - start))
            except ConnectionResetError:
                pass
            s.close()
        dropped = time.monotonic() - start
        if dropped < 9.9:
            vt.fail("the unfinished handshakes were dropped after %.1f s, before their 10 s" % dropped)
        again = Probe(port, retry_seconds=0)
        if not again.greeting.startswith("connected"):
            vt.fail("a viewer was refused after the unfinished handshakes went: %r" % again.greeting)
        print("ok: the 4 silent connections were dropped %.1f s after the first" % dropped)
        engine.send(b"\n")
        if engine.wait_exit(20) != 0:
            vt.fail("engine did not end cleanly")
        viewer.close()
        again.close()


def case_partial_handshake():
    """A connection that sends part of its ProtocolVersion and stops does
    not hold up the viewers (libvncserver alone waits up to 20 s for the
    rest, and every viewer with it): a viewer's full-screen request is
    answered at once. When the rest comes, its handshake goes on."""
    engine, port = boot_with_vnc("vga-text")
    with engine:
        viewer = Probe(port)
        engine.wait_for(r"vga-text: written", 30)
        viewer.screen(720, 400)
        slow, first = raw_connection(port)
        if not first.startswith(b"RFB "):
            vt.fail("the server did not greet the slow connection: %r" % first)
        slow.sendall(b"RFB 003")
        time.sleep(0.5)
        start = time.monotonic()
        text = read_text(viewer.screen(720, 400), 720, 400)
        took = time.monotonic() - start
        if took > 5 or not text[0].startswith("Hello from Vireo"):
            vt.fail("with half a ProtocolVersion pending, the viewer's picture took %.1f s and reads %r"
                    % (took, text[0]))
        slow.sendall(b".008\n")
        security = slow.recv(2)  # RFC 6143 §7.1.2: how many security types, then them (1: None)
        if security != b"\x01\x01":
            vt.fail("after the rest of the ProtocolVersion the server sent %r, not its security types" % security)
        print("ok: the viewer's picture took %.2f s beside half a ProtocolVersion" % took)
        slow.close()
        engine.send(b"\n")
        engine.wait_exit(20)
        viewer.close()


def case_descriptor_limit():
    """libvncserver keeps viewer sockets in an fd_set (select), which holds
    descriptors below FD_SETSIZE only: started with a higher soft limit, the
    engine runs with at most 1024, and a viewer still connects."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard <= 1024:
        vt.skip("the hard descriptor limit is %d: no higher soft limit to start with" % hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096 if hard == resource.RLIM_INFINITY else min(hard, 4096), hard))
    engine, port = boot_with_vnc("vga-text")
    with engine:
        viewer = Probe(port)
        with open("/proc/%d/limits" % engine.proc.pid) as f:
            soft = re.search(r"^Max open files\s+(\d+)", f.read(), re.M).group(1)
        if int(soft) > 1024:
            vt.fail("the engine runs with a soft descriptor limit of %s, above FD_SETSIZE" % soft)
        engine.wait_for(r"vga-text: written", 30)
        if not read_text(viewer.screen(720, 400), 720, 400)[0].startswith("Hello from Vireo"):
            vt.fail("the viewer does not see the guest's text")
        viewer.close()


def case_descriptors_taken():
    """Started with every descriptor below FD_SETSIZE already taken (a
    parent that leaks them), the engine must not put a viewer's socket
    above it in libvncserver's fd_set (glibc then aborts it): it stops with
    one line, or serves the viewer."""
    taken = []
    while not taken or taken[-1] < 1100:
        taken.append(os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC))
    port = free_port()
    cmd = [vt.engine_path(), "--kernel", os.path.join(vt.guest_dir(), "vga-text.elf"), "--memory", "64M",
           "--display", "vnc=127.0.0.1:%d" % port]
    # Under ASan, LeakSanitizer's exit check needs descriptors of its own
    # (/proc/PID/task), which this case takes away on purpose: leaks are
    # not what it checks.
    asan = os.environ.get("ASAN_OPTIONS", "")
    env = dict(os.environ, ASAN_OPTIONS=(asan + ":" if asan else "") + "detect_leaks=0")
    proc = subprocess.Popen(cmd, pass_fds=taken, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=env)
    for fd in taken:
        os.close(fd)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        viewer = Probe(port, retry_seconds=0)
        served = viewer.greeting.startswith("connected") and viewer.ask("idle 0.5").startswith("idle-bytes")
        time.sleep(0.5)
        if proc.poll() is None or served:  # a slow engine (ASan, a loaded host) may still end with its line
            alive = proc.poll() is None
            proc.kill()
            proc.wait()
            if not (served and alive):
                vt.fail("the engine ran but did not serve a viewer (exit %s): %r"
                        % (proc.returncode, proc.stderr.read()))
            print("ok: the viewer was served")
            return
    err = proc.stderr.read().strip()
    if proc.returncode <= 0 or len(err.splitlines()) != 1 or not err.startswith("vireo-engine: "):
        vt.fail("the engine ended with status %d and not one clear line: %r" % (proc.returncode, err))
    print("ok: %s" % err)


def said_vnc_port(engine, timeout=20):
    """The port in the engine's "VNC on ADDR:PORT" line on stderr."""
    deadline = time.monotonic() + timeout
    while select.select([engine.proc.stderr], [], [], max(0, deadline - time.monotonic()))[0]:
        line = engine.proc.stderr.readline().decode(errors="replace")
        m = re.match(r"vireo-engine: VNC on 127\.0\.0\.1:(\d+)$", line.rstrip("\n"))
        if m:
            return int(m.group(1))
        if not line:
            break
    vt.fail("the engine never said which VNC port it took")


def case_vnc_first_free_port():
    """`--display vnc` without a port: two machines side by side each take a
    free port from 5900 up, say which, and a viewer on each sees that
    machine's own screen (text mode on one, 1024x768 bars on the other)."""
    text = vt.Engine(["--kernel", os.path.join(vt.guest_dir(), "vga-text.elf"), "--memory", "64M",
                      "--display", "vnc"])
    bars = vt.Engine(["--kernel", os.path.join(vt.guest_dir(), "vga.elf"), "--memory", "64M",
                      "--display", "vnc"])
    with text:
        text_port = said_vnc_port(text)
        with bars:
            bars_port = said_vnc_port(bars)
            if text_port == bars_port or not all(5900 <= p <= 5999 for p in (text_port, bars_port)):
                vt.fail("the two servers took ports %d and %d" % (text_port, bars_port))
            text.wait_for(r"vga-text: written", 30)
            bars.wait_for(r"vga: 1024x768x32 drawn", 60)
            text_viewer, bars_viewer = Probe(text_port), Probe(bars_port)
            if not read_text(text_viewer.screen(720, 400), 720, 400)[0].startswith("Hello from Vireo"):
                vt.fail("the viewer on port %d does not see the text-mode machine" % text_port)
            check_image(bars_viewer.screen(1024, 768), 1024, 768, pattern32, "1024x768x32")
            for engine, viewer in ((text, text_viewer), (bars, bars_viewer)):
                viewer.close()
                engine.proc.kill()


def case_keyboard_and_mouse():
    """Keys and pointer events from the viewer reach the guest's i8042 as
    scan set 1 (translated from set 2) and IntelliMouse packets."""
    engine, port = boot_with_vnc("ps2-input")
    with engine:
        probe = Probe(port)
        engine.wait_for(r"ps2: mouse id 3", 30)
        engine.wait_for(r"ps2: ready", 30)
        for line in ["key 61 1", "key 61 0",              # a
                     "key ffe1 1", "key 21 1", "key 21 0", "key ffe1 0",  # Shift + 1 ('!')
                     "key ff53 1", "key ff53 0",          # Right arrow (extended)
                     "pointer 100 100 0", "pointer 110 95 0", "pointer 110 95 1", "pointer 110 95 8"]:
            probe.ask(line)
        want = ["kbd 1e", "kbd 9e", "kbd 2a", "kbd 02", "kbd 82", "kbd aa", "kbd e0", "kbd 4d", "kbd e0",
                "kbd cd", "mouse 08 00 00 00", "mouse 08 0a 05 00", "mouse 09 00 00 00", "mouse 08 00 00 ff"]
        engine.wait_for(r"\r?\n".join(want), 30)
        probe.ask("key 71 1")  # q ends the guest
        engine.wait_for(r"kbd 10", 10)
        if engine.wait_exit(20) != 0:
            vt.fail("engine did not end cleanly")
        probe.close()


def case_linux_earlyprintk_vga():
    """Linux's own early console on the VGA text screen (earlyprintk=vga),
    read back from the viewer's pixels. Debian's vmlinux enters through the
    64-bit boot protocol, whose zero page carries the screen_info (filled as
    a VGA BIOS would) that tells Linux about the text mode. The screen is the
    only output, so the test looks at it until the banner and the e820 map
    show."""
    port = free_port()
    args = ["--kernel", os.path.join(vt.images_dir(), "vmlinux"), "--memory", "256M",
            "--append", "earlyprintk=vga,keep", "--display", "vnc=127.0.0.1:%d" % port]
    want = ["Linux version 6.", "Command line: earlyprintk=vga,keep"]
    with vt.Engine(args):
        probe = Probe(port)
        deadline = time.monotonic() + 150
        seen = []  # the text scrolls within a second or two: keep every line any snapshot showed
        while not all(any(w in line for line in seen) for w in want):
            if time.monotonic() > deadline:
                vt.fail("the VGA screen never showed %s; it showed:\n%s" % (want, "\n".join(seen)))
            text = read_text(probe.screen(720, 400, settle=0.05), 720, 400)
            seen += [line.strip() for line in text if line.strip() and line.strip() not in seen]
        print("ok: the screen showed: %s" % [line[:60] for line in seen if any(w in line for w in want)])
        probe.close()


def gpu_pattern(x, y):
    """tests/guest/virtio-gpu.c's 640x480 picture after its partial update."""
    if 100 <= x < 150 and 120 <= y < 160:
        return (0xFF, 0x80, 0x00)
    return ((x * 3) & 0xFF, (y * 5) & 0xFF, (x ^ y) & 0xFF)


def gpu_step(engine, line, timeout):
    """Waits for the guest's line, failing at once on one of its error lines."""
    m = engine.wait_for(r"(%s)|gpu: error [^\r\n]*|gpu: FAIL [^\r\n]*|gpu: no display change" % line, timeout)
    if m.group(1) is None:
        vt.fail("waiting for %r the guest printed %r" % (line, m.group(0)))
    return m


def cursor_mismatch(answer):
    """What is wrong with the probe's "cursor W H HOTX HOTY X,Y=AARRGGBB ..."
    for the guest's 64x64 ARGB cursor (a 16x16 opaque white square with a
    black outer ring at the top left, transparent elsewhere, hot spot (1,1)),
    or None."""
    fields = answer.split()
    if fields[0] != "cursor":
        return "the viewer got no cursor shape"
    width, height, hot_x, hot_y = map(int, fields[1:5])
    if (hot_x, hot_y) != (1, 1) or width < 16 or height < 16:
        return "cursor %dx%d hot (%d,%d), expected at least 16x16 with hot spot (1,1)" % (width, height, hot_x, hot_y)
    for point in fields[5:]:
        where, argb = point.split("=")
        x, y = map(int, where.split(","))
        if x >= 16 or y >= 16:
            ok = argb == "outside" or int(argb, 16) >> 24 == 0
            want = "transparent"
        else:
            want = "ff000000" if x in (0, 15) or y in (0, 15) else "ffffffff"
            ok = argb == want
        if not ok:
            return "cursor pixel (%d,%d) is %s, expected %s" % (x, y, argb, want)
    return None


def check_cursor(probe, seconds=10):
    """The viewer's cursor shape becomes the guest's (an older shape may
    still be the latest one the viewer has taken)."""
    deadline = time.monotonic() + seconds
    while True:
        probe.ask("idle 0.3")
        answer = probe.ask("cursor 5 0 0 1 1 5 5 14 14 15 15 15 0 0 15 8 15 16 16 20 20 16 0 0 16 63 63")
        wrong = cursor_mismatch(answer)
        if wrong is None:
            return
        if time.monotonic() > deadline:
            vt.fail("%s (%s)" % (wrong, answer))


def case_virtio_gpu():
    """A virtio-gpu driven as Linux's virtio-gpu DRM driver does
    (tests/guest/virtio-gpu.c): the 640x480 scanout gathered from two backing
    entries and a partial update show pixel for pixel, the cursor arrives as
    the viewer's cursor shape, requests the device must refuse get error
    responses, and a viewer's desktop resize reaches the guest as a display
    change that it answers with a new mode."""
    port = free_port()
    args = ["--kernel", os.path.join(vt.guest_dir(), "virtio-gpu.elf"), "--memory", "256M", "--gpu", "virtio",
            "--display", "vnc=127.0.0.1:%d" % port]
    with vt.Engine(args) as engine:
        probe = Probe(port)
        gpu_step(engine, r"gpu: found, edid feature 1", 30)
        width, height = gpu_step(engine, r"gpu: display 0 (\d+)x(\d+) enabled 1", 30).group(2, 3)
        gpu_step(engine, r"gpu: edid \d+ bytes, checksum ok, preferred %sx%s" % (width, height), 30)
        gpu_step(engine, r"gpu: scanout 640x480", 60)
        gpu_step(engine, r"gpu: partial flush", 30)
        rgb = probe.screen(640, 480)
        # The orange rect's corners, inside and just outside, then some of the pattern.
        for x, y in [(100, 120), (149, 120), (100, 159), (149, 159), (99, 120), (150, 120), (100, 119),
                     (100, 160), (149, 160), (150, 159), (0, 0), (639, 0), (0, 479), (639, 479), (319, 239),
                     (320, 240), (77, 333), (511, 17)]:
            if pixel(rgb, 640, x, y) != gpu_pattern(x, y):
                vt.fail("640x480: pixel (%d,%d) is %s, expected %s"
                        % (x, y, pixel(rgb, 640, x, y), gpu_pattern(x, y)))
        check_image(rgb, 640, 480, gpu_pattern, "640x480")
        gpu_step(engine, r"gpu: cursor 300,200", 30)
        check_cursor(probe)
        for what in ["transfer", "backing", "scanout"]:
            gpu_step(engine, r"gpu: bad %s -> 0x12[0-9a-f]{2}\r?\n" % what, 30)
        gpu_step(engine, r"gpu: still ok", 30)
        gpu_step(engine, r"gpu: waiting for display change", 30)
        if probe.ask("resize 800 600") != "ok":
            vt.fail("the viewer could not send its desktop size request")
        gpu_step(engine, r"gpu: display change 800x600", 30)
        gpu_step(engine, r"gpu: resized 800x600", 60)
        check_image(probe.screen(800, 600), 800, 600, lambda x, y: (0x33, 0x66, 0x99), "800x600")
        engine.send(b"\n")
        gpu_step(engine, r"gpu: done", 20)
        if engine.wait_exit(20) != 0:
            vt.fail("engine did not end cleanly")
        probe.close()


X_CLIENT_MESSAGE = 33  # X.h ClientMessage


class XClientMessageEvent(ctypes.Structure):
    """Xlib's XClientMessageEvent, with 32-bit format data."""
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                ("display", ctypes.c_void_p), ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                ("format", ctypes.c_int), ("data", ctypes.c_long * 5)]


class XEvent(ctypes.Union):
    _fields_ = [("xclient", XClientMessageEvent), ("pad", ctypes.c_long * 24)]


class Xvfb:
    """A private X server for the SDL window tests."""

    def __enter__(self):
        for number in range(90, 140):
            if not os.path.exists("/tmp/.X11-unix/X%d" % number) and not os.path.exists("/tmp/.X%d-lock" % number):
                break
        self.display = ":%d" % number
        self.proc = subprocess.Popen(["Xvfb", self.display, "-screen", "0", "1600x1200x24", "-nolisten", "tcp"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists("/tmp/.X11-unix/X%d" % number):
            if time.monotonic() > deadline:
                vt.fail("Xvfb did not start")
            time.sleep(0.1)
        return self

    def run(self, *cmd):
        return subprocess.run(cmd, env=dict(os.environ, DISPLAY=self.display), capture_output=True, text=True,
                              timeout=30).stdout

    def window(self, name, seconds=20):
        """(id, x, y, width, height) of the first window whose title contains name."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            # xwininfo reads the UTF-8 title (_NET_WM_NAME) SDL sets; xdotool search does not.
            for line in self.run("xwininfo", "-root", "-tree").splitlines():
                m = re.search(r'(0x[0-9a-f]+) "([^"]*)".*?(\d+)x(\d+)[+-]\d+[+-]\d+\s+\+(-?\d+)\+(-?\d+)', line)
                if m and name in m.group(2):  # the last pair is the absolute position
                    return (str(int(m.group(1), 16)), int(m.group(5)), int(m.group(6)), int(m.group(3)),
                            int(m.group(4)))
            time.sleep(0.2)
        vt.fail("no window named %r appeared" % name)

    def close_window(self, wid):
        """Asks the window to close as a window manager's close button does:
        a WM_DELETE_WINDOW message (ICCCM 4.2.8.1), sent with Xlib itself
        since xdotool has no way to."""
        x11 = ctypes.CDLL("libX11.so.6")
        x11.XOpenDisplay.restype = ctypes.c_void_p
        x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x11.XInternAtom.restype = ctypes.c_ulong
        x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        x11.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
        x11.XFlush.argtypes = x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        display = x11.XOpenDisplay(self.display.encode())
        if not display:
            vt.fail("cannot open X display " + self.display)
        event = XEvent()
        event.xclient = XClientMessageEvent(type=X_CLIENT_MESSAGE, window=int(wid), format=32,
                                            message_type=x11.XInternAtom(display, b"WM_PROTOCOLS", 0))
        event.xclient.data[0] = x11.XInternAtom(display, b"WM_DELETE_WINDOW", 0)
        x11.XSendEvent(display, int(wid), 0, 0, ctypes.byref(event))
        x11.XFlush(display)
        x11.XCloseDisplay(display)

    def screenshot(self):
        """The root window as (width, rgb bytes)."""
        data = subprocess.run(["xwd", "-root", "-silent", "-display", self.display], capture_output=True,
                              timeout=30).stdout
        header = struct.unpack(">25I", data[:100])
        width, height, bits, line = header[4], header[5], header[11], header[12]
        start = header[0] + header[19] * 12
        step = bits // 8
        rgb = bytearray()
        for y in range(height):
            row = data[start + y * line:start + y * line + width * step]
            for x in range(0, width * step, step):
                rgb += bytes((row[x + 2], row[x + 1], row[x]))
        return width, bytes(rgb)

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(10)


def sdl_engine(x, name, guest):
    """vireo-engine running a test guest in a window titled "NAME - Vireo" on x."""
    return vt.Engine(["--name", name, "--kernel", os.path.join(vt.guest_dir(), guest + ".elf"), "--memory", "64M",
                      "--display", "sdl"], env={"DISPLAY": x.display})


def sdl_available():
    if not shutil.which("Xvfb") or not shutil.which("xdotool") or not shutil.which("xwd"):
        vt.skip("needs Xvfb, xdotool and xwd (./setup.sh installs them)")


def case_sdl_window():
    """The SDL window under Xvfb: an X screenshot of it shows the guest's
    1024x768x32 picture pixel for pixel, its title names the machine, and
    keys typed into it with xdotool reach the PS/2 keyboard of a guest."""
    sdl_available()
    with Xvfb() as x:
        engine = sdl_engine(x, "sdltest", "vga")
        with engine:
            engine.wait_for(r"vga: 1024x768x32 drawn", 60)
            wid, wx, wy, ww, wh = x.window("sdltest - Vireo")
            if (ww, wh) != (1024, 768):
                vt.fail("the window is %dx%d, not the guest's 1024x768" % (ww, wh))
            time.sleep(1.5)  # the window refreshes at least twice a second
            width, rgb = x.screenshot()
            for py in range(768):
                for px in range(1024):
                    if pixel(rgb, width, wx + px, wy + py) != pattern32(px, py):
                        vt.fail("SDL window: pixel (%d,%d) is %s, expected %s"
                                % (px, py, pixel(rgb, width, wx + px, wy + py), pattern32(px, py)))
            engine.send(b"\n")
            engine.send(b"\n")
        engine = sdl_engine(x, "keys", "ps2-input")
        with engine:
            engine.wait_for(r"ps2: ready", 30)
            wid = x.window("keys - Vireo")[0]
            x.run("xdotool", "mousemove", "--window", wid, "100", "100")
            x.run("xdotool", "windowfocus", "--sync", wid)
            x.run("xdotool", "key", "--window", wid, "a")
            x.run("xdotool", "key", "--window", wid, "shift+1")
            engine.wait_for(r"kbd aa(.|\n)*kbd 82|kbd 82(.|\n)*kbd aa", 20)
            keys = re.findall(r"kbd ([0-9a-f]{2})", engine.output())
            # xdotool may let go of Shift before or after the 1
            if keys not in (["1e", "9e", "2a", "02", "82", "aa"], ["1e", "9e", "2a", "02", "aa", "82"]):
                vt.fail("the guest read %s for a, Shift+1" % keys)
            x.run("xdotool", "key", "--window", wid, "q")
            if engine.wait_exit(20) != 0:
                vt.fail("engine did not end cleanly")


def case_sdl_close():
    """Closing the SDL window is the power button: a guest with ACPI gets
    the SCI with PWRBTN_STS and powers itself off (engine status 0); a guest
    that does not listen is stopped cleanly (status 0) at once."""
    sdl_available()
    with Xvfb() as x:
        engine = sdl_engine(x, "button", "acpi-button")
        with engine:
            engine.wait_for(r"acpi-button: waiting", 30)
            x.close_window(x.window("button - Vireo")[0])
            engine.wait_for(r"acpi-button: pressed", 20)
            if engine.wait_exit(20) != 0:
                vt.fail("the guest's power-off did not end the engine with status 0")
            if "power button pressed" not in engine.proc.stderr.read().decode(errors="replace"):
                vt.fail("the engine did not say it pressed the power button")
        engine = sdl_engine(x, "deaf", "ps2-input")
        with engine:
            engine.wait_for(r"ps2: ready", 30)
            x.close_window(x.window("deaf - Vireo")[0])
            if engine.wait_exit(20) != 0:
                vt.fail("closing the window of a guest without ACPI did not stop it cleanly")


def case_sdl_show():
    """Show over the control socket raises the SDL window: a window that
    covered the guest's picture goes behind it again."""
    sdl_available()
    with Xvfb() as x, tempfile.TemporaryDirectory() as tmp:
        sock = os.path.join(tmp, "engine.sock")
        engine = vt.Engine(["--name", "showtest", "--kernel", os.path.join(vt.guest_dir(), "vga.elf"),
                            "--memory", "64M", "--display", "sdl", "--control", sock], env={"DISPLAY": x.display})
        with engine:
            engine.wait_for(r"vga: 1024x768x32 drawn", 60)
            wx, wy = x.window("showtest - Vireo")[1:3]
            cover = subprocess.Popen(["xlogo", "-geometry", "300x300+%d+%d" % (wx, wy), "-bg", "black"],
                                     env=dict(os.environ, DISPLAY=x.display))
            try:
                x.window("xlogo")
                time.sleep(1.5)
                width, rgb = x.screenshot()
                if pixel(rgb, width, wx + 1, wy + 1) == pattern32(1, 1):
                    vt.fail("the covering window does not cover the guest's picture")
                subprocess.run([os.environ["VIREO_CTL"], sock, "show"], check=True, timeout=30)
                deadline = time.monotonic() + 10
                while True:
                    time.sleep(0.5)
                    width, rgb = x.screenshot()
                    if all(pixel(rgb, width, wx + px, wy + py) == pattern32(px, py)
                           for px, py in ((1, 1), (150, 150), (299, 299))):
                        break
                    if time.monotonic() > deadline:
                        vt.fail("Show did not bring the guest's window to the front")
            finally:
                cover.kill()
                cover.wait()
            engine.send(b"\n")
            engine.send(b"\n")
    print("ok: Show raises the SDL window")


def case_sdl_virtio_gpu():
    """virtio-gpu in the SDL window under Xvfb: the window takes the guest's
    640x480 scanout, pixel for pixel; resizing the window (as a user
    dragging its corner does) reaches the guest as a display change, and the
    guest's new 800x600 mode fills the window."""
    sdl_available()
    with Xvfb() as x:
        engine = vt.Engine(["--name", "gpu", "--kernel", os.path.join(vt.guest_dir(), "virtio-gpu.elf"),
                            "--memory", "256M", "--gpu", "virtio", "--display", "sdl"], env={"DISPLAY": x.display})
        with engine:
            gpu_step(engine, r"gpu: waiting for display change", 60)
            wid, wx, wy, ww, wh = x.window("gpu - Vireo")
            if (ww, wh) != (640, 480):
                vt.fail("the window is %dx%d, not the guest's 640x480" % (ww, wh))
            time.sleep(1)
            width, rgb = x.screenshot()
            for py in range(0, 480, 7):
                for px in range(0, 640, 5):
                    if pixel(rgb, width, wx + px, wy + py) != gpu_pattern(px, py):
                        vt.fail("SDL window: pixel (%d,%d) is %s, expected %s"
                                % (px, py, pixel(rgb, width, wx + px, wy + py), gpu_pattern(px, py)))
            x.run("xdotool", "windowsize", wid, "800", "600")
            gpu_step(engine, r"gpu: display change 800x600", 30)
            gpu_step(engine, r"gpu: resized 800x600", 60)
            deadline = time.monotonic() + 10
            while True:
                wid, wx, wy, ww, wh = x.window("gpu - Vireo")
                width, rgb = x.screenshot()
                corners = [pixel(rgb, width, wx + px, wy + py) for px, py in [(0, 0), (799, 0), (0, 599), (799, 599)]]
                if (ww, wh) == (800, 600) and corners == [(0x33, 0x66, 0x99)] * 4:
                    break
                if time.monotonic() > deadline:
                    vt.fail("the %dx%d window shows %s at its corners, not the guest's 800x600 0x336699"
                            % (ww, wh, corners))
                time.sleep(0.3)
            engine.send(b"\n")
            gpu_step(engine, r"gpu: done", 20)


CASES = {name[5:].replace("_", "-"): fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    vt.require_kvm()
    CASES[sys.argv[1]]()
    print("ok: %s" % sys.argv[1])
