#!/usr/bin/env python3
"""Debian's kernel and our busybox initramfs to a shell. Cases:
  shell        the prompt, nproc, free memory, a clean power-off
  virtio-disk  a line written to /dev/vda survives a power-off and a second boot,
               and is in the host image
  virtio-rng   /dev/hwrng is virtio_rng and gives bytes
  virtio-net   eth0 on user networking fetches a file from a web server on the
               host (host-loopback=on) and answers on a forwarded port
  fb-bochs     bochs-drm's fbdev on the standard VGA: fbdraw's picture (our
               static program in the initramfs, mmap of /dev/fb0) at the
               EDID's preferred 1024x768x32, and at 800x600x32 chosen with
               video=, pixel for pixel in a VNC viewer (16 bpp is out of
               reach: 6.1's bochs-drm offers XRGB8888 only, and its fbdev
               refuses video=800x600-16 with -EINVAL)
  fb-virtio-gpu  the same through virtio_gpu's fbdev, and a viewer's desktop
               size request becoming the guest DRM connector's preferred mode
  evdev        keys, pointer moves, a button and the wheel from a VNC viewer
               reach /dev/input/event* (atkbd, psmouse) as evdump reads them
  iso-grub-shell  firmware boot of the Linux install image (build-images.sh:
               linux-install.iso) from the IDE CD-ROM: SeaBIOS, GRUB's menu on
               COM1, Linux and the shell, GRUB's root being the CD; Linux's
               ATAPI driver reads the disc
  install-ahci the install: booted from a SATA CD-ROM, the shell copies the
               image onto an AHCI disk and writes a marker past it; the host
               finds both in the disk image; then the disk alone boots through
               GRUB to the shell, which reads the marker back
Needs a host whose KVM runs guest kernel code natively (VT-x/AMD-V); elsewhere
it skips with one line naming the limit. Usage: test_linux_full.py CASE"""
import http.server
import os
import re
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import vireo_test as vt
import test_display as td  # noqa: E402  (the VNC viewer and the pictures)

PROMPT = r"~ # "
BTN_MISC = 0x100  # evdev codes from here on are buttons, below are keys
INSTALL_ISO = "linux-install.iso"
GRUB_ENTRY = r"Vireo: Linux from the install image"  # tests/images/grub-linux-install.cfg
# s: GRUB reads the kernel and initramfs (11 MB) through the BIOS's disk
# services, one small request at a time; real hosts take seconds.
GRUB_TIMEOUT = 300
MARKER = b"installed-by-vireo\n"
# GRUB's $root (vireo.grubroot) after a boot from the first CD-ROM, which
# SeaBIOS gives BIOS drive number 0xE0 (GRUB names drives from 0x80 hdN), and
# from the first hard disk (0x80).
CD_ROOT, DISK_ROOT = "hd96", "hd0"


def boot(*extra, append=""):
    images = vt.images_dir()
    args = ["--kernel", os.path.join(images, "vmlinuz"),
            "--initrd", os.path.join(images, "initramfs.cpio.gz"),
            "--append", ("console=ttyS0 panic=-1 " + append).strip(), "--memory", "1G", "--cpus", "2", *extra]
    return vt.Engine(args)


def boot_desktop(gpu, port, append=""):
    """A boot whose init loads the DRM and input drivers (vireo.desktop),
    with the screen on a VNC server at port."""
    return boot("--gpu", gpu, "--display", "vnc=127.0.0.1:%d" % port, append="vireo.desktop " + append)


def shell(engine):
    engine.wait_for(r"vireo-initramfs: ready", 120)
    engine.wait_for(PROMPT, 30)


def power_off(engine):
    engine.send(b"poweroff -f\n")
    if engine.wait_exit(60) != 0:
        vt.fail("engine did not exit 0 after the guest powered off")


def case_shell():
    with boot() as engine:
        shell(engine)
        engine.send(b"nproc\n")
        engine.wait_for(r"nproc\r?\n2\r?\n", 10)
        engine.send(b"free -m | grep Mem\n")
        m = engine.wait_for(r"Mem:\s+(\d+)", 10)
        if not 800 <= int(m.group(1)) <= 1024:
            vt.fail("guest sees %s MiB of memory, expected about 1024" % m.group(1))
        power_off(engine)


def case_virtio_disk():
    with tempfile.TemporaryDirectory() as tmp:
        disk = os.path.join(tmp, "disk.img")
        with open(disk, "wb") as f:
            f.truncate(64 << 20)
        with boot("--disk", disk) as engine:
            shell(engine)
            engine.send(b"echo vireo-persist-42 > /dev/vda; sync\n")
            engine.send(b"echo written\n")
            engine.wait_for(r"\nwritten", 10)
            power_off(engine)
        with boot("--disk", disk) as engine:
            shell(engine)
            engine.send(b"head -c 18 /dev/vda; echo\n")
            engine.wait_for(r"\nvireo-persist-42", 10)
            power_off(engine)
        with open(disk, "rb") as f:
            if f.read(17) != b"vireo-persist-42\n":
                vt.fail("the host image does not start with what the guest wrote")


def case_virtio_rng():
    with boot("--rng") as engine:
        shell(engine)
        engine.send(b"cat /sys/class/misc/hw_random/rng_current\n")
        engine.wait_for(r"virtio_rng", 10)
        engine.send(b"head -c 16 /dev/hwrng | od -An -tx1\n")
        engine.wait_for(r"([0-9a-f]{2} ){15}[0-9a-f]{2}", 10)
        power_off(engine)


def serve_folder(folder):
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=folder)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def case_virtio_net():
    with tempfile.TemporaryDirectory() as www:
        with open(os.path.join(www, "greeting.txt"), "w") as f:
            f.write("fetched through slirp\n")
        server = serve_folder(www)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            fwd_port = s.getsockname()[1]
        net = "user,host-loopback=on,hostfwd=tcp:127.0.0.1:%d-:7000" % fwd_port
        with boot("--net", net) as engine:
            shell(engine)
            engine.send(b"ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up; route add default gw 10.0.2.2\n")
            engine.send(b"wget -q -O - http://10.0.2.2:%d/greeting.txt\n" % server.server_address[1])
            engine.wait_for(r"\nfetched through slirp", 30)
            engine.send(b"echo hello-from-guest | nc -l -p 7000 &\n")
            engine.wait_for(PROMPT, 10)
            with socket.create_connection(("127.0.0.1", fwd_port), timeout=20) as conn:
                if not conn.recv(100).startswith(b"hello-from-guest"):
                    vt.fail("nothing came back through the forwarded port")
            power_off(engine)
        server.shutdown()


def fbdraw(engine, probe, bpp, pattern, size=None):
    """Runs fbdraw, checks the mode it found (size, or any when None) and
    every pixel the viewer shows of pattern(width, height), then lets it end."""
    engine.send(b"fbdraw\n")
    m = engine.wait_for(r"fbdraw: ((\d+)x(\d+)x(\d+) drawn|[^\r\n]*)", 60)
    if m.group(2) is None:
        vt.fail("fbdraw failed: %r" % m.group(0))
    width, height = size or (int(m.group(2)), int(m.group(3)))
    want = "%dx%dx%d drawn" % (width, height, bpp)
    if m.group(1) != want:
        vt.fail("fbdraw printed %r, expected %r" % (m.group(0), "fbdraw: " + want))
    # fbdev emulation copies its shadow buffer out on a timer (deferred I/O)
    # and the server refreshes every 33 ms: settle before looking.
    td.check_image(probe.screen(width, height, settle=1), width, height, pattern(width, height), "fbdraw " + want)
    engine.send(b"\necho fbdraw-ended\n")
    engine.wait_for(r"\nfbdraw-ended", 20)
    return width, height


def quadrants(width, height):
    """fbdraw's 32 bpp picture at any size (tests/guest/vga.c's at 1024x768)."""
    def pattern(x, y):
        if x % 64 == 0 or y % 64 == 0:
            return (0, 0, 0)
        return [[(255, 0, 0), (0, 255, 0)], [(0, 0, 255), (255, 255, 255)]][y >= height // 2][x >= width // 2]
    return pattern


def case_fb_bochs():
    port = td.free_port()
    with boot_desktop("std", port) as engine:
        shell(engine)
        probe = td.Probe(port)
        fbdraw(engine, probe, 32, lambda w, h: td.pattern32, (1024, 768))
        probe.close()
        power_off(engine)
    # fbdev emulation cannot change modes at run time: ask for one at boot.
    port = td.free_port()
    with boot_desktop("std", port, "video=800x600") as engine:
        shell(engine)
        probe = td.Probe(port)
        fbdraw(engine, probe, 32, quadrants, (800, 600))
        probe.close()
        power_off(engine)


def connector_mode(engine, mode, timeout):
    """Waits until the guest's virtual connector lists mode first (DRM's
    preferred mode, from the display size the device reports)."""
    modes = "/sys/class/drm/card*-Virtual-1/modes"
    engine.send(b"while ! head -1 %s | grep -qx %s; do sleep 1; done; echo now-$(head -1 %s)\n"
                % (modes.encode(), mode.encode(), modes.encode()))
    engine.wait_for(r"now-%s" % mode, timeout)


def case_fb_virtio_gpu():
    port = td.free_port()
    with boot_desktop("virtio", port) as engine:
        shell(engine)
        probe = td.Probe(port)
        fbdraw(engine, probe, 32, quadrants)  # at the size the device reports
        if probe.ask("resize 800 600") != "ok":
            vt.fail("the viewer could not send its desktop size request")
        connector_mode(engine, "800x600", 60)
        probe.close()
        power_off(engine)


def case_evdev():
    port = td.free_port()
    with boot_desktop("std", port) as engine:
        shell(engine)
        probe = td.Probe(port)
        # psmouse registers the mouse a moment after init loads it.
        engine.send(b"while ! grep -q 'B: REL=' /proc/bus/input/devices; do sleep 1; done; evdump\n")
        engine.wait_for(r"evdump: \d+ devices", 60)
        for line in ["key 61 1", "key 61 0",                        # a
                     "key ffe1 1", "key 21 1", "key 21 0", "key ffe1 0",  # Shift + 1
                     "key ff53 1", "key ff53 0",                    # Right arrow
                     "pointer 100 100 0", "pointer 110 95 0",       # 10 right, 5 up
                     "pointer 110 95 1", "pointer 110 95 0",        # left button
                     "pointer 110 95 8", "pointer 110 95 0"]:       # wheel up
            probe.ask(line)
        # Each device keeps its own order, but the keyboard's and the mouse's
        # events may interleave (a VMM may pace keys), so check them apart.
        keys = ["key 30 1", "key 30 0", "key 42 1", "key 2 1", "key 2 0", "key 42 0", "key 106 1", "key 106 0"]
        # The first pointer event may move from wherever the pointer was;
        # from the second on the motion is known. psmouse reports a packet's
        # wheel, then its buttons, then X and Y (zero motion is not reported).
        mouse = ["rel 0 10", "rel 1 -5", "key 272 1", "key 272 0", "rel 8 1"]
        engine.wait_for(r"evdev %s\r?\n" % keys[-1], 30)
        engine.wait_for(r"evdev %s\r?\n" % mouse[-1], 30)
        seen = re.findall(r"evdev ((key|rel) (\d+) -?\d+)", engine.output())
        seen_keys = [e[0] for e in seen if e[1] == "key" and int(e[2]) < BTN_MISC]
        seen_mouse = [e[0] for e in seen if e[1] == "rel" or int(e[2]) >= BTN_MISC]
        if seen_keys != keys:
            vt.fail("the keyboard gave %s, expected %s" % (seen_keys, keys))
        if seen_mouse[-len(mouse):] != mouse:
            vt.fail("the mouse gave %s, expected it to end with %s" % (seen_mouse, mouse))
        probe.ask("key 71 1")  # q ends evdump
        probe.ask("key 71 0")
        engine.wait_for(r"evdev key 16 1", 10)
        engine.send(b"echo evdump-ended\n")
        engine.wait_for(r"\nevdump-ended", 20)
        probe.close()
        power_off(engine)


def install_iso():
    path = os.path.join(vt.images_dir(), INSTALL_ISO)
    if not os.path.exists(path):
        vt.fail("no %s: run tests/images/build-images.sh (./setup.sh does)" % path)
    return path


def firmware_boot(*drives):
    """SeaBIOS (no --kernel) with drives, COM1 on stdio."""
    return vt.Engine(["--memory", "1G", "--cpus", "2", *drives])


def grub_to_shell(engine, root):
    """GRUB's menu on COM1, then Linux to the shell; /proc/cmdline as GRUB
    wrote it must name root as the device GRUB booted from. Prints how long
    each step took."""
    start = time.monotonic()
    engine.wait_for(r"GNU GRUB +version 2\.", GRUB_TIMEOUT)
    engine.wait_for(GRUB_ENTRY, 30)
    print("time to GRUB's menu on COM1: %.1f s" % (time.monotonic() - start))
    engine.wait_for(r"vireo-initramfs: ready", GRUB_TIMEOUT)
    engine.wait_for(PROMPT, 30)
    print("time to the shell: %.1f s" % (time.monotonic() - start))
    engine.send(b"cat /proc/cmdline\n")
    line = engine.wait_for(r"cat /proc/cmdline\r?\n([^\r\n]*vireo\.grubroot=[^\r\n]*)\r?\n", 10).group(1)
    if not re.search(r"(^| )vireo\.grubroot=%s( |$)" % root, line):
        vt.fail("/proc/cmdline reads %r: GRUB did not boot from %s" % (line, root))


def run(engine, command, tag, timeout):
    """Types command and waits until it succeeded. The shell echoes what is
    typed, wrapped at 80 columns, so the line it prints at the end, "TAG-42",
    is computed and never part of the echo."""
    engine.send(b"%s && echo %s-$((6*7))\n" % (command.encode(), tag.encode()))
    engine.wait_for(r"%s-42" % tag, timeout)


def wait_block_devices(engine, *names):
    """Until the guest's SCSI scan (asynchronous after insmod) made /dev/NAME
    of every name."""
    tests = " || ".join("[ ! -b /dev/%s ]" % name for name in names)
    run(engine, "while %s; do sleep 1; done" % tests, "found-" + "-".join(names), 60)


def case_iso_grub_shell():
    with firmware_boot("--cdrom", install_iso()) as engine:
        grub_to_shell(engine, CD_ROOT)
        # Linux's own ATAPI driver reads the disc: its ISO 9660 volume descriptor
        wait_block_devices(engine, "sr0")
        engine.send(b"dd if=/dev/sr0 bs=1 skip=%d count=5 2>/dev/null; echo\n" % (16 * 2048 + 1))
        engine.wait_for(r"\nCD001\r?\n", 30)
        power_off(engine)


def case_install_ahci():
    iso = install_iso()
    iso_size = os.path.getsize(iso)
    with tempfile.TemporaryDirectory() as tmp:
        disk = os.path.join(tmp, "disk.img")
        disk_size = (iso_size + (2 << 20)) & ~((1 << 20) - 1)  # the image, then at least 1 MiB free
        marker_sector = disk_size // 512 - 1                    # the disk's last sector
        with open(disk, "wb") as f:
            f.truncate(disk_size)
        with firmware_boot("--disk", disk + ",bus=sata", "--disk", iso + ",bus=sata,media=cdrom",
                           "--boot-order", "cdrom") as engine:
            grub_to_shell(engine, CD_ROOT)
            wait_block_devices(engine, "sda", "sr0")
            run(engine, "dd if=/dev/sr0 of=/dev/sda bs=1M && echo %s | dd of=/dev/sda bs=512 seek=%d "
                "conv=notrunc && sync" % (MARKER.decode().strip(), marker_sector), "copied", 300)
            power_off(engine)
        with open(disk, "rb") as f, open(iso, "rb") as original:
            if f.read(iso_size) != original.read():
                vt.fail("the disk image does not start with the install image")
            f.seek(marker_sector * 512)
            if f.read(len(MARKER)) != MARKER:
                vt.fail("no %r in sector %d of the disk image" % (MARKER, marker_sector))
        with firmware_boot("--disk", disk + ",bus=sata") as engine:
            grub_to_shell(engine, DISK_ROOT)
            wait_block_devices(engine, "sda")
            engine.send(b"dd if=/dev/sda bs=512 skip=%d count=1 2>/dev/null | head -c %d\n"
                        % (marker_sector, len(MARKER)))
            engine.wait_for(r"\n%s" % re.escape(MARKER.decode().strip()), 30)
            power_off(engine)


CASES = {name[5:].replace("_", "-"): fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    vt.require_kvm()
    if not vt.host_can_run_linux():
        vt.skip("host KVM cannot run a full Linux kernel (guest kernel code is emulated; "
                "the engine's instruction assist does not yet carry Linux to its shell)")
    CASES[sys.argv[1]]()
    print("ok: %s" % sys.argv[1])
