#!/usr/bin/env python3
"""The engine's control interface (D-Bus io.github.vireo.Engine1 on the
--control socket), driven with vireo-ctl as a script or the app would:

info-and-screenshot: name, state and the VNC address the engine bound; a
  screenshot PNG of the guest's 1024x768x32 picture, pixel for pixel; the
  socket is the user's alone (mode 0600).
pause-resume: a paused machine takes no key (the PS/2 guest prints nothing),
  a resumed one gets it at once; reset reboots the guest; the power button
  ends the engine with status 0 and the socket file goes away.
cdrom-change: SeaBIOS boots the --cdrom disc; after `change` to another ISO
  and a reset it boots that one; after `eject` and a reset it finds no disc;
  a missing image and a machine without the drive are refused with a message.
sata-cdrom-change: the same for a CD-ROM drive on the AHCI controller, named
  cdrom1; bad drive names, a drive the machine lacks and a file that is not
  an ISO are refused naming them.
ide-and-sata-cdroms: a SATA CD (cdrom1), an IDE CD given as a disk (cdrom2)
  and the --cdrom drive (cdrom3, counted after the disks as --boot-order
  counts): each named drive changes alone, a change without a drive name
  goes to the --cdrom drive; which disc boots after each reset shows it.
sendkey: `sendkey ctrl-alt-delete` reaches the PS/2 guest as Ctrl, Alt and
  Delete pressed in that order and released in reverse (the scan codes the
  guest reads); an unknown key name and an empty combination are refused
  naming them, and nothing reaches the guest; `sendkey q` ends the guest.
empty-cdroms: a machine started with both drives empty (--cdrom empty, a
  SATA CD with PATH empty) boots SeaBIOS, which finds both drives and no disc
  in them; `change` then puts a disc in each, which boots after a reset.
"""
import os
import re
import stat
import struct
import subprocess
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.dirname(__file__))
import test_firmware as tf
import vireo_test as vt
from test_display import Probe, free_port, pattern32


def ctl(sock, *args, check=True):
    r = subprocess.run([os.environ["VIREO_CTL"], sock] + list(args), capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        vt.fail("vireo-ctl %s: status %d: %s" % (" ".join(args), r.returncode, r.stderr.strip()))
    return r.stdout


def info(sock):
    return dict(line.split(" ", 1) for line in ctl(sock, "info").splitlines())


def read_png(path):
    """(width, height, rows of (r, g, b)) of an 8-bit RGB PNG, any filters."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        vt.fail("%s is not a PNG" % path)
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]:
            vt.fail("%s: bad CRC in chunk %s" % (path, kind))
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            if (depth, colour) != (8, 2):
                vt.fail("%s: not 8-bit RGB" % path)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * 3, [], bytearray(width * 3)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a, b, c = line[i - 3] if i >= 3 else 0, prev[i], prev[i - 3] if i >= 3 else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            predictor = [0, a, b, (a + b) // 2, a if pa <= pb and pa <= pc else b if pb <= pc else c][kind]
            line[i] = (line[i] + predictor) & 0xFF
        rows.append([tuple(line[x * 3:x * 3 + 3]) for x in range(width)])
        prev = line
    return width, height, rows


def case_info_and_screenshot(tmp):
    sock, port = os.path.join(tmp, "engine.sock"), free_port()
    args = ["--name", "ctltest", "--kernel", os.path.join(vt.guest_dir(), "vga.elf"), "--memory", "64M",
            "--display", "vnc=127.0.0.1:%d" % port, "--control", sock]
    with vt.Engine(args) as engine:
        engine.wait_for(r"vga: 1024x768x32 drawn", 60)
        got = info(sock)
        want = {"name": "ctltest", "state": "running", "display": "vnc:127.0.0.1:%d" % port}
        if got != want:
            vt.fail("info says %s, expected %s" % (got, want))
        if stat.S_IMODE(os.stat(sock).st_mode) != 0o600:
            vt.fail("control socket mode %o, expected 600" % stat.S_IMODE(os.stat(sock).st_mode))
        png = os.path.join(tmp, "screen.png")
        if ctl(sock, "screenshot", png).strip() != "1024x768":
            vt.fail("screenshot did not report 1024x768")
        width, height, rows = read_png(png)
        for y in range(height):
            for x in range(width):
                if rows[y][x] != pattern32(x, y):
                    vt.fail("screenshot pixel (%d,%d) is %s, expected %s" % (x, y, rows[y][x], pattern32(x, y)))
        bad = subprocess.run([os.environ["VIREO_CTL"], sock, "screenshot", os.path.join(tmp, "no", "dir.png")],
                             capture_output=True, text=True, timeout=30)
        if bad.returncode == 0 or "dir.png" not in bad.stderr:
            vt.fail("a screenshot to a missing folder should fail naming it: %r" % bad.stderr)
        engine.send(b"\n")
        engine.send(b"\n")
        if engine.wait_exit(20) != 0:
            vt.fail("engine did not end cleanly")
    print("ok: info, a pixel-exact screenshot, socket mode 0600")


def wait_for_boot(engine, banners, failure):
    """Waits until the guest has said it is ready once more than `banners`."""
    deadline = time.monotonic() + 30
    while engine.output().count("ps2: ready") <= banners:
        if time.monotonic() > deadline:
            vt.fail(failure)
        time.sleep(0.2)


def case_pause_resume(tmp):
    sock, port = os.path.join(tmp, "engine.sock"), free_port()
    args = ["--kernel", os.path.join(vt.guest_dir(), "ps2-input.elf"), "--memory", "64M",
            "--display", "vnc=127.0.0.1:%d" % port, "--control", sock]
    with vt.Engine(args) as engine:
        engine.wait_for(r"ps2: ready", 30)
        probe = Probe(port)
        ctl(sock, "pause")
        if info(sock)["state"] != "paused":
            vt.fail("state is not paused after pause")
        probe.ask("key 61 1")
        probe.ask("key 61 0")
        time.sleep(1.5)
        if "kbd 1e" in engine.output():
            vt.fail("a paused guest read a key")
        ctl(sock, "resume")
        if info(sock)["state"] != "running":
            vt.fail("state is not running after resume")
        engine.wait_for(r"kbd 1e\r?\n", 10)
        banners = engine.output().count("ps2: ready")
        ctl(sock, "reset")
        wait_for_boot(engine, banners, "the guest did not boot again after reset")
        # A paused machine that is reset runs again, as after a power cycle.
        banners = engine.output().count("ps2: ready")
        ctl(sock, "pause")
        ctl(sock, "reset")
        wait_for_boot(engine, banners, "the paused guest did not boot again after reset")
        if info(sock)["state"] != "running":
            vt.fail("state is %s, not running, after a reset of a paused machine" % info(sock)["state"])
        ctl(sock, "power-button")
        if engine.wait_exit(20) != 0:
            vt.fail("the power button did not end the engine cleanly")
        probe.close()
    if os.path.exists(sock):
        vt.fail("the control socket outlived the engine")
    print("ok: pause holds the guest, resume lets it run, reset reboots (a paused one too), power button ends it")


def case_sendkey(tmp):
    sock = os.path.join(tmp, "engine.sock")
    args = ["--kernel", os.path.join(vt.guest_dir(), "ps2-input.elf"), "--memory", "64M", "--control", sock]
    with vt.Engine(args) as engine:
        engine.wait_for(r"ps2: ready", 30)
        ctl(sock, "sendkey", "ctrl-alt-delete")
        # Scan set 1, as the guest reads it through the controller's translation.
        want = ["1d", "38", "e0", "53", "e0", "d3", "b8", "9d"]
        deadline = time.monotonic() + 10
        while True:
            got = re.findall(r"^kbd ([0-9a-f]{2})\r?\n", engine.output(), re.M)  # whole lines only
            if got == want:
                break
            if len(got) >= len(want) or time.monotonic() > deadline:
                vt.fail("after sendkey ctrl-alt-delete the guest read %s, not %s" % (got, want))
            time.sleep(0.1)
        for keys, message in (("ctrl-bogus", "unknown key 'bogus'"), ("", "no keys given")):
            r = subprocess.run([os.environ["VIREO_CTL"], sock, "sendkey", keys], capture_output=True, text=True,
                               timeout=30)
            if r.returncode != 1 or message not in r.stderr or r.stderr.count("\n") != 1:
                vt.fail("sendkey '%s': status %d, %r (wanted status 1 and one line naming %r)"
                        % (keys, r.returncode, r.stderr, message))
        time.sleep(0.5)
        if len(re.findall(r"^kbd ", engine.output(), re.M)) != len(want):
            vt.fail("a refused sendkey still reached the guest: %r" % engine.output())
        ctl(sock, "sendkey", "q")
        if engine.wait_exit(20) != 0:
            vt.fail("sendkey q did not end the guest")
    print("ok: sendkey ctrl-alt-delete reached the guest in order; bad names refused")


def case_power_button_acpi(tmp):
    """A guest with ACPI hears the power button (the SCI with PWRBTN_STS)
    and powers itself off: the request reaches the guest, it does not just
    stop it."""
    sock = os.path.join(tmp, "engine.sock")
    args = ["--kernel", os.path.join(vt.guest_dir(), "acpi-button.elf"), "--memory", "64M", "--control", sock]
    with vt.Engine(args) as engine:
        engine.wait_for(r"acpi-button: waiting", 30)
        ctl(sock, "power-button")
        engine.wait_for(r"acpi-button: pressed", 20)
        if engine.wait_exit(20) != 0:
            vt.fail("the guest's power-off did not end the engine with status 0")
    print("ok: the guest heard the power button and powered off")


def case_cdrom_change(tmp):
    sock, first = os.path.join(tmp, "engine.sock"), tf.boot_cd(tmp)
    second_message = b"Vireo second disc ran\n"
    second = tf.boot_cd(tmp, name="second.iso", message=second_message)
    engine, _, log = tf.firmware_engine("128M", 1, tmp)
    engine.args += ["--cdrom", first, "--control", sock]
    with engine:
        tf.wait_log(log, tf.BOOT_MESSAGE.decode().strip(), engine, tf.BOOT_TIMEOUT)
        missing = subprocess.run([os.environ["VIREO_CTL"], sock, "change", os.path.join(tmp, "nope.iso")],
                                 capture_output=True, text=True, timeout=30)
        if missing.returncode == 0 or "nope.iso" not in missing.stderr:
            vt.fail("changing to a missing image should fail naming it: %r" % missing.stderr)
        ctl(sock, "change", second)
        ctl(sock, "reset")
        tf.wait_log(log, second_message.decode().strip(), engine, tf.BOOT_TIMEOUT)
        ctl(sock, "eject")
        ctl(sock, "reset")
        text = tf.wait_log(log, r"Boot failed: Could not read from CDROM", engine, tf.BOOT_TIMEOUT)
        if text.count("DVD/CD [ata1-0: VIREO DVD-ROM") != 3:
            vt.fail("SeaBIOS should find the drive in each of the three boots:\n%s" % text[-3000:])
        ctl(sock, "force-off")
        engine.wait_exit(20)
    other = os.path.join(tmp, "other.sock")
    with vt.Engine(["--kernel", os.path.join(vt.guest_dir(), "ps2-input.elf"), "--memory", "64M",
                    "--control", other]) as engine:
        engine.wait_for(r"ps2: ready", 30)
        r = subprocess.run([os.environ["VIREO_CTL"], other, "eject"], capture_output=True, text=True, timeout=30)
        if r.returncode == 0 or "no CD-ROM drive" not in r.stderr:
            vt.fail("eject without a CD-ROM drive should fail saying so: %r" % r.stderr)
        ctl(other, "force-off")
        engine.wait_exit(20)
    print("ok: the changed disc boots after a reset, an ejected drive has none, bad requests refused")


def ctl_fails(sock, *args, naming):
    """vireo-ctl args fails with one line, the engine's message naming `naming`."""
    r = subprocess.run([os.environ["VIREO_CTL"], sock] + list(args), capture_output=True, text=True, timeout=30)
    lines = r.stderr.strip().splitlines()
    if (r.returncode == 0 or len(lines) != 1 or not lines[0].startswith("vireo-ctl: %s: " % args[0])
            or naming not in lines[0] or "GDBus" in lines[0]):
        vt.fail("vireo-ctl %s should fail with one line naming %r: %r" % (" ".join(args), naming, r.stderr))


def reset_and_boot(sock, engine, log, message):
    """A reset, then SeaBIOS runs the boot sector printing message."""
    ctl(sock, "reset")
    tf.wait_log(log, message.decode().strip(), engine, tf.BOOT_TIMEOUT)


def force_off_cleanly(sock, engine):
    """force-off ends the engine with status 0 (under ASan: nothing leaked
    or closed twice)."""
    ctl(sock, "force-off")
    if engine.wait_exit(20) != 0:
        vt.fail("the engine did not end cleanly: %s" % engine.proc.stderr.read().decode(errors="replace")[-3000:])


def case_sata_cdrom_change(tmp):
    sock, first = os.path.join(tmp, "engine.sock"), tf.boot_cd(tmp)
    second_message = b"Vireo second SATA disc ran\n"
    second = tf.boot_cd(tmp, name="second.iso", message=second_message)
    not_iso = os.path.join(tmp, "zeros.iso")
    with open(not_iso, "wb") as f:
        f.write(bytes(64 * 2048))
    engine, _, log = tf.firmware_engine("128M", 1, tmp)
    engine.args += ["--disk", first + ",bus=sata,media=cdrom", "--boot-order", "cdrom1", "--control", sock]
    with engine:
        tf.wait_log(log, tf.BOOT_MESSAGE.decode().strip(), engine, tf.BOOT_TIMEOUT)
        ctl_fails(sock, "change", second, "cdrom9", naming="this machine has no cdrom9")
        ctl_fails(sock, "eject", "cdrom", naming="unknown drive 'cdrom'")
        ctl_fails(sock, "eject", "disk1", naming="unknown drive 'disk1'")
        ctl_fails(sock, "change", os.path.join(tmp, "nope.iso"), "cdrom1", naming="nope.iso")
        ctl_fails(sock, "change", not_iso, "cdrom1", naming="zeros.iso is not an ISO 9660")
        ctl(sock, "change", second, "cdrom1")
        reset_and_boot(sock, engine, log, second_message)
        ctl(sock, "eject", "cdrom1")
        ctl(sock, "reset")
        text = tf.wait_log(log, r"Boot failed: Could not read from CDROM", engine, tf.BOOT_TIMEOUT)
        if text.count("DVD/CD [AHCI/0: VIREO DVD-ROM") != 3:
            vt.fail("SeaBIOS should find the SATA drive in each of the three boots:\n%s" % text[-3000:])
        if text.count(tf.BOOT_MESSAGE.decode().strip()) != 1:
            vt.fail("the first disc booted again after the change:\n%s" % text[-3000:])
        force_off_cleanly(sock, engine)
    print("ok: a SATA CD's changed disc boots after a reset, ejected it has none, bad requests refused")


def case_ide_and_sata_cdroms(tmp):
    sock = os.path.join(tmp, "engine.sock")
    discs = {"cdrom": (tf.boot_cd(tmp), tf.BOOT_MESSAGE)}
    for name in ("sata", "ide", "changed", "default", "primary"):
        message = ("Vireo %s disc ran\n" % name).encode()
        discs[name] = (tf.boot_cd(tmp, name=name + ".iso", message=message), message)
    engine, _, log = tf.firmware_engine("128M", 1, tmp)
    # cdrom1 the SATA drive, cdrom2 the IDE primary master, cdrom3 --cdrom's.
    engine.args += ["--cdrom", discs["cdrom"][0], "--disk", discs["sata"][0] + ",bus=sata,media=cdrom",
                    "--disk", discs["ide"][0] + ",bus=ide,media=cdrom", "--boot-order", "cdrom1,cdrom2,cdrom3",
                    "--control", sock]

    with engine:
        tf.wait_log(log, discs["sata"][1].decode().strip(), engine, tf.BOOT_TIMEOUT)
        ctl_fails(sock, "eject", "cdrom4", naming="this machine has no cdrom4 (it has 3 CD-ROM drives)")
        ctl(sock, "change", discs["changed"][0], "cdrom1")
        ctl(sock, "eject", "cdrom2")
        reset_and_boot(sock, engine, log, discs["changed"][1])
        ctl(sock, "eject", "cdrom1")
        # Both disk drives are empty now; the --cdrom drive kept its disc.
        reset_and_boot(sock, engine, log, discs["cdrom"][1])
        ctl(sock, "change", discs["default"][0])
        reset_and_boot(sock, engine, log, discs["default"][1])  # no drive named: --cdrom's
        ctl(sock, "change", discs["primary"][0], "cdrom2")
        reset_and_boot(sock, engine, log, discs["primary"][1])
        text = open(log).read()
        for name in ("sata", "changed", "cdrom", "default"):
            if text.count(discs[name][1].decode().strip()) != 1:
                vt.fail("the %s disc should have booted once:\n%s" % (name, text[-3000:]))
        if discs["ide"][1].decode().strip() in text:
            vt.fail("the IDE disc booted although it was ejected:\n%s" % text[-3000:])
        force_off_cleanly(sock, engine)
    print("ok: cdrom1 (SATA), cdrom2 (IDE disk) and cdrom3 (--cdrom) change alone; no name means --cdrom's")


def case_empty_cdroms(tmp):
    sock = os.path.join(tmp, "engine.sock")
    sata_message, ide_message = b"Vireo disc in the empty SATA drive ran\n", b"Vireo disc in the empty IDE drive ran\n"
    sata = tf.boot_cd(tmp, name="sata.iso", message=sata_message)
    ide = tf.boot_cd(tmp, name="ide.iso", message=ide_message)
    engine, _, log = tf.firmware_engine("128M", 1, tmp)
    engine.args += ["--cdrom", "empty", "--disk", "empty,bus=sata,media=cdrom", "--boot-order", "cdrom1,cdrom2",
                    "--control", sock]
    with engine:
        text = tf.wait_log(log, r"No bootable device", engine, tf.BOOT_TIMEOUT)
        for drive in ("DVD/CD [AHCI/0: VIREO DVD-ROM", "DVD/CD [ata1-0: VIREO DVD-ROM"):
            if drive not in text:
                vt.fail("SeaBIOS should find the empty drive %r:\n%s" % (drive, text[-3000:]))
        if text.count("Boot failed: Could not read from CDROM") != 2:
            vt.fail("SeaBIOS should find no disc in either drive:\n%s" % text[-3000:])
        ctl(sock, "change", sata, "cdrom1")
        reset_and_boot(sock, engine, log, sata_message)
        ctl(sock, "eject", "cdrom1")
        ctl(sock, "change", ide, "cdrom2")
        reset_and_boot(sock, engine, log, ide_message)
        force_off_cleanly(sock, engine)
    print("ok: empty drives are there with no disc, and take one with change")


CASES = {name[5:].replace("_", "-"): fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    vt.require_kvm()
    with tempfile.TemporaryDirectory() as tmp:
        CASES[sys.argv[1]](tmp)
