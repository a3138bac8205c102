#!/usr/bin/env python3
"""Firmware boot: Debian's SeaBIOS on the engine with no kernel and no disks,
up to its "No bootable device." screen, and the boot devices it finds on
virtio and IDE; helpers the other firmware tests share. Usage:
test_firmware.py CASE"""
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import test_display as td  # noqa: E402
import vireo_test as vt  # noqa: E402

FIRMWARE_DIR = os.environ.get("VIREO_FIRMWARE_DIR") or "/usr/share/seabios"
VGA_BIOS = os.path.join(FIRMWARE_DIR, "vgabios-stdvga.bin")
BOOT_TIMEOUT = 120  # s: on hosts that emulate real mode SeaBIOS takes several seconds
SMILEY = bytes([0, 0, 0x7E, 0x81, 0xA5, 0x81, 0x81, 0xBD, 0x99, 0x81, 0x81, 0x7E, 0, 0, 0, 0])
# What the engine's PCI bus holds with no disks, rng or network.
PCI_DEVICES = [("00:00.0", "8086:1237"), ("00:01.0", "8086:7000"), ("00:01.1", "8086:7010"),
               ("00:01.3", "8086:7113"), ("00:02.0", "1234:1111")]


def vgabios_shapes():
    """The 8x16 font SeaVGABIOS loads into plane 2, found in its ROM by its
    second glyph (the IBM smiley): 256 glyphs of 16 bytes."""
    rom = open(VGA_BIOS, "rb").read()
    at = rom.find(SMILEY)
    if at < 16:
        vt.fail("no 8x16 font found in %s" % VGA_BIOS)
    font = rom[at - 16:at - 16 + 256 * 16]
    return td.font_shapes(lambda code: font[code * 16:code * 16 + 16])


def low_high_ram(memory):
    """engine/kvm/vm.c's split: all below 4 GiB up to 3.5 GiB, else 3 GiB low."""
    return (memory, 0) if memory <= 0xE0000000 else (0xC0000000, memory - 0xC0000000)


def wait_log(log, pattern, engine, timeout):
    """The log's text once pattern appears in it (the engine must stay up)."""
    deadline = time.monotonic() + timeout
    while True:
        text = open(log, errors="replace").read() if os.path.exists(log) else ""
        if re.search(pattern, text):
            return text
        if engine.proc.poll() is not None:
            vt.fail("the engine exited (%d) before %r; stderr: %s\nfirmware log:\n%s"
                    % (engine.proc.returncode, pattern, engine.proc.stderr.read().decode(errors="replace"),
                       text[-3000:]))
        if time.monotonic() > deadline:
            vt.fail("no %r in the firmware log within %d s; log:\n%s" % (pattern, timeout, text[-3000:]))
        time.sleep(0.1)


def firmware_engine(memory, cpus, tmp):
    """(engine, its VNC port, its firmware log), not started yet."""
    log = os.path.join(tmp, "firmware.log")
    port = td.free_port()
    return vt.Engine(["--memory", memory, "--cpus", str(cpus), "--display", "vnc=127.0.0.1:%d" % port,
                      "--firmware-log", log]), port, log


def wait_no_bootable_device(engine, log):
    """The firmware log once SeaBIOS gave up; prints how long that took."""
    start = time.monotonic()
    text = wait_log(log, r"No bootable device", engine, BOOT_TIMEOUT)
    print("time to 'No bootable device.' in the firmware log: %.1f s" % (time.monotonic() - start))
    return text


def wait_screen(probe, pattern, engine, timeout, shapes=None):
    """The lines of the 80x25 text screen once pattern matches them (joined
    by newlines), read off the viewer's pixels in the VGA BIOS's font."""
    shapes = shapes or vgabios_shapes()
    deadline = time.monotonic() + timeout
    while True:
        lines = td.read_text(probe.screen(720, 400, settle=0.1), 720, 400, shapes)
        if re.search(pattern, "\n".join(lines)):
            return lines
        if engine.proc.poll() is not None:
            vt.fail("the engine exited (%d) before %r was on the screen" % (engine.proc.returncode, pattern))
        if time.monotonic() > deadline:
            vt.fail("no %r on the screen within %d s; it reads:\n%s" % (pattern, timeout, "\n".join(lines)))
        time.sleep(0.2)


def check_log(text, memory, cpus):
    for needle in ["SeaBIOS (version", "Found QEMU fw_cfg", "QEMU fw_cfg DMA interface supported",
                   "Found %d cpu(s) max supported %d cpu(s)" % (cpus, cpus)]:
        if needle not in text:
            vt.fail("the firmware log lacks %r:\n%s" % (needle, text[-3000:]))
    low, high = low_high_ram(memory)
    expected = [(0, low)] + ([(1 << 32, high)] if high else [])
    ram = [(int(a, 16), int(n, 16)) for a, n in re.findall(r"qemu/e820: addr (0x[0-9a-f]+) len (0x[0-9a-f]+) \[RAM\]", text)]
    if ram != expected:
        vt.fail("SeaBIOS read RAM %s from etc/e820, expected %s" % (
            [(hex(a), hex(n)) for a, n in ram], [(hex(a), hex(n)) for a, n in expected]))
    found = re.search(r"Found (\d+) PCI devices", text)
    if not found or int(found.group(1)) != len(PCI_DEVICES):
        vt.fail("SeaBIOS found %s PCI devices, expected %d" % (found and found.group(1), len(PCI_DEVICES)))
    for bdf, ids in PCI_DEVICES:
        if "PCI: init bdf=%s id=%s" % (bdf, ids) not in text:
            vt.fail("SeaBIOS did not initialise %s %s" % (bdf, ids))


def case_seabios_no_bootable_device():
    """256 MiB, 2 vCPUs, the standard VGA: SeaBIOS finds fw_cfg, our e820, both
    CPUs and every PCI device, runs the VGA BIOS and shows its banner and "No
    bootable device." in text mode, read back through a VNC viewer, without
    the boot menu prompt (off by default)."""
    with tempfile.TemporaryDirectory() as tmp:
        engine, port, log = firmware_engine("256M", 2, tmp)
        with engine:
            check_log(wait_no_bootable_device(engine, log), 256 << 20, 2)
            probe = td.Probe(port)
            # the log can be ahead of the screen's next refresh
            lines = wait_screen(probe, r"SeaBIOS \(version(.|\n)*No bootable device", engine, 30)
            if any("Press ESC" in line for line in lines):
                vt.fail("the boot menu prompt showed without --boot-menu:\n%s" % "\n".join(lines))
            probe.close()


def case_seabios_high_ram():
    """5 GiB: SeaBIOS reads 3 GiB below 4 GiB and 2 GiB above it from etc/e820."""
    with tempfile.TemporaryDirectory() as tmp:
        engine, _, log = firmware_engine("5G", 1, tmp)
        with engine:
            check_log(wait_no_bootable_device(engine, log), 5 << 30, 1)


# A boot sector of ours: DS = 0, then the message out to the debug console
# (0x402) a byte at a time, then cli; hlt forever.
BOOT_MESSAGE = b"Vireo boot sector ran\n"
BOOT_CODE = bytes([0x31, 0xC0,              # xor ax, ax
                   0x8E, 0xD8,              # mov ds, ax
                   0xBE, 0x16, 0x7C,        # mov si, 0x7C16 (the message, at offset 22)
                   0xBA, 0x02, 0x04,        # mov dx, 0x402
                   0xAC,                    # next: lodsb
                   0x84, 0xC0,              # test al, al
                   0x74, 0x03,              # jz done
                   0xEE,                    # out dx, al
                   0xEB, 0xF8,              # jmp next
                   0xFA, 0xF4,              # done: cli; hlt
                   0xEB, 0xFC])             # jmp done


def boot_disk(tmp, name="boot.img", message=BOOT_MESSAGE):
    """A 1 MiB disk image in tmp whose first sector is our boot sector, printing message."""
    disk = os.path.join(tmp, name)
    sector = (BOOT_CODE + message + b"\0").ljust(510, b"\0") + b"\x55\xAA"
    with open(disk, "wb") as f:
        f.write(sector.ljust(1 << 20, b"\0"))
    return disk


def boot_cd(tmp, name="boot.iso", message=BOOT_MESSAGE):
    """An El Torito no-emulation ISO (xorriso) in tmp whose boot image is our boot sector, printing message."""
    root = os.path.join(tmp, name + ".root")
    os.mkdir(root)
    with open(os.path.join(root, "boot.bin"), "wb") as f:
        f.write(BOOT_CODE + message + b"\0")
    iso = os.path.join(tmp, name)
    subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-o", iso, "-b", "boot.bin", "-no-emul-boot",
                    "-boot-load-size", "4", root], check=True)
    return iso


def check_boots(tmp, args, needles):
    """SeaBIOS runs our boot sector from the device args give, and its log
    says what it found on the way."""
    engine, _, log = firmware_engine("256M", 1, tmp)
    engine.args += args
    with engine:
        start = time.monotonic()
        text = wait_log(log, BOOT_MESSAGE.decode().strip(), engine, BOOT_TIMEOUT)
        print("time to the boot sector's message: %.1f s" % (time.monotonic() - start))
        for needle in needles:
            if needle not in text:
                vt.fail("the firmware log lacks %r:\n%s" % (needle, text[-3000:]))


def case_seabios_boots_virtio_disk():
    """A virtio disk whose first sector is a boot sector of ours: SeaBIOS
    finds the virtio-blk at 00:03.0 (modern virtio, BARs it assigned itself),
    reads the sector and runs it, and the sector's message reaches the log."""
    with tempfile.TemporaryDirectory() as tmp:
        check_boots(tmp, ["--disk", boot_disk(tmp)], ["found virtio-blk at 00:03.0", "using modern (1.0) virtio mode",
                                                      "Booting from Hard Disk..."])


def case_seabios_boots_ide_disk():
    """The same disk as the primary IDE master: SeaBIOS names our ATA drive
    and its size (from IDENTIFY) and boots it."""
    with tempfile.TemporaryDirectory() as tmp:
        check_boots(tmp, ["--disk", boot_disk(tmp) + ",bus=ide"],
                    ["ata0-0: VIREO HARDDISK ATA-8 Hard-Disk (1 MiBytes)", "Booting from Hard Disk..."])


def case_seabios_boots_cdrom():
    """--cdrom: SeaBIOS finds the ATAPI drive on the secondary master and
    boots the El Torito image from it."""
    with tempfile.TemporaryDirectory() as tmp:
        check_boots(tmp, ["--cdrom", boot_cd(tmp)],
                    ["DVD/CD [ata1-0: VIREO DVD-ROM ATAPI-8 DVD/CD]", "Booting from DVD/CD..."])


CASES = {name[5:].replace("_", "-"): fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    CASES[sys.argv[1]]()
    print("ok: %s" % sys.argv[1])
