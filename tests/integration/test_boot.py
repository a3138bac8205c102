#!/usr/bin/env python3
"""Booting through SeaBIOS: its boot menu (--boot-menu), used as a user would
through a VNC viewer, the boot order (--boot-order) it reads from fw_cfg's
bootorder, and GRUB (the grub-mkrescue image tests/images/build-images.sh
builds) to its menu. Usage: test_boot.py CASE"""
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import test_firmware as tf  # noqa: E402
import vireo_test as vt  # noqa: E402

MENU_WAIT = 10  # s: the prompt must outlast a few screen reads on a busy host

# A drive is (the image it holds, the engine flags that add it with {image}
# for the image's path). Images are made per drive n (from 1) so that their
# boot sector reports message(n): a disk with it as its MBR, or a CD with it
# as its El Torito boot image.
DISK, CD = "disk", "cd"

# Each boot menu case: its drives, each with the entry SeaBIOS lists for it,
# in the menu's order (hard disks before CD-ROMs; ATA before virtio). Virtio
# disks take PCI slots from 00:03.0 in the order given.
MENU_CASES = {
    "virtio-disks": [(DISK, "--disk {image}", r"Virtio disk PCI:00:03\.0"),
                     (DISK, "--disk {image}", r"Virtio disk PCI:00:04\.0")],
    "every-controller": [
        (DISK, "--disk {image},bus=ide", r"ata0-0: VIREO HARDDISK ATA-8 Hard-Disk \(1 MiBytes\)"),
        (DISK, "--disk {image},bus=sata", r"AHCI/0: VIREO HARDDISK ATA-8 Hard-Disk \(1 MiBytes\)"),
        (DISK, "--disk {image}", r"Virtio disk PCI:00:03\.0"),
        (CD, "--cdrom {image}", r"DVD/CD \[ata1-0: VIREO DVD-ROM ATAPI-8 DVD/CD\].*"),
        (CD, "--disk {image},bus=sata,media=cdrom", r"DVD/CD \[AHCI/1: VIREO DVD-ROM ATAPI-8 DVD/CD\].*")],
}

# Each boot order case: --boot-order, the drives, the drive that boots, its
# path as bootorder's first line, and the glob SeaBIOS searches for it.
ORDER_CASES = {
    "second-disk": ("disk2", [(DISK, "--disk {image}"), (DISK, "--disk {image}")], 2,
                    "/pci@i0cf8/scsi@4/disk@0,0", "/pci@i0cf8/*@4"),
    # SeaBIOS alone would boot the ATA disk first.
    "virtio-before-ide": ("disk2,disk1", [(DISK, "--disk {image},bus=ide"), (DISK, "--disk {image}")], 2,
                          "/pci@i0cf8/scsi@3/disk@0,0", "/pci@i0cf8/*@3"),
    # SeaBIOS alone would boot the hard disk first (CMOS: hard disk, then CD).
    "cdrom-first": ("cdrom,disk", [(DISK, "--disk {image}"), (CD, "--cdrom {image}")], 2,
                    "/pci@i0cf8/ide@1,1/drive@1/disk@0", "/pci@i0cf8/*@1,1/drive@1/disk@0"),
    # SeaBIOS alone would boot the virtio disk first.
    "sata-first": ("disk2", [(DISK, "--disk {image}"), (DISK, "--disk {image},bus=sata")], 2,
                   "/pci@i0cf8/sata@1f/drive@0/disk@0", "/pci@i0cf8/*@1f/drive@0/disk@0"),
}

# How the GRUB rescue image is given to the engine ({iso}: its path); it is
# a hybrid, so the same image boots as a hard disk and as a CD.
GRUB_CASES = {
    "grub-virtio-disk": ["--disk", "{iso},ro"],
    "grub-cdrom": ["--cdrom", "{iso}"],
}
GRUB_TIMEOUT = 240  # s: GRUB reads its modules through the BIOS, in emulated real mode here

MENU_KEYS = "123456789abcdefghijklmnopqrsuvwxyz"  # SeaBIOS's (src/boot.c: t is its TPM menu)
ESC = 0xFF1B
DOWN = 0xFF54


def message(n):
    return b"Vireo boot sector of drive %d ran\n" % n


def drive_flags(tmp, drives):
    """The engine flags for drives (see DISK), each on an image of its own."""
    makers = {DISK: tf.boot_disk, CD: tf.boot_cd}
    flags = []
    for n, (kind, template) in enumerate(drives, 1):
        image = makers[kind](tmp, name="drive%d.%s" % (n, "img" if kind == DISK else "iso"), message=message(n))
        flags += template.format(image=image).split()
    return flags


def press(probe, keysym):
    probe.ask("key %x 1" % keysym)
    probe.ask("key %x 0" % keysym)


def menu_entries(lines):
    """[(key, description)] of SeaBIOS's "Select boot device:" list."""
    start = next(i for i, line in enumerate(lines) if line.startswith("Select boot device:"))
    entries = []
    for line in lines[start + 1:]:
        m = re.match(r"([1-9a-z])\. (.*)$", line)
        if m:
            entries.append(m.groups())
        elif entries:
            break
    return entries


def boot_menu_case(name):
    """--boot-menu: the prompt shows on the screen, Esc opens the menu, the
    menu lists every drive, and the key of the last entry boots that drive
    (not the first one, which SeaBIOS would boot by itself)."""
    drives = MENU_CASES[name]
    with tempfile.TemporaryDirectory() as tmp:
        engine, port, log = tf.firmware_engine("256M", 1, tmp)
        engine.args += drive_flags(tmp, [(kind, template) for kind, template, _ in drives])
        engine.args += ["--boot-menu", "--boot-menu-wait", str(MENU_WAIT)]
        with engine:
            probe = tf.td.Probe(port)
            shapes = tf.vgabios_shapes()
            start = time.monotonic()
            tf.wait_screen(probe, r"Press ESC for boot menu\.", engine, tf.BOOT_TIMEOUT, shapes)
            print("time to 'Press ESC for boot menu.': %.1f s" % (time.monotonic() - start))
            press(probe, ESC)
            # every entry as expected, so the list is whole (SeaBIOS prints it slowly here)
            listed = "".join(r"\n%s\. %s$" % (key, pattern) for key, (_, _, pattern) in zip(MENU_KEYS, drives))
            lines = tf.wait_screen(probe, r"(?m)^Select boot device:\n" + listed, engine, 30, shapes)
            entries = menu_entries(lines)
            print("menu: %s" % entries)
            if len(entries) != len(drives):  # none besides ours
                vt.fail("the menu lists %d entries, expected %d:\n%s" % (len(entries), len(drives), "\n".join(lines)))
            key, text = entries[-1]
            press(probe, ord(key))
            booted = tf.wait_log(log, r"Vireo boot sector of drive \d+ ran", engine, 60)
            want = message(len(drives)).decode().strip()
            if want not in booted or booted.count("Vireo boot sector") != 1:
                vt.fail("entry %s. (%s) should boot drive %d; the log ends:\n%s"
                        % (key, text, len(drives), booted[-1500:]))
            probe.close()


def boot_order_case(name):
    """--boot-order: the drive it names first boots, bootorder lists that
    drive's path first and SeaBIOS finds it when it searches for the drive
    with its own glob."""
    order, drives, booted, first, searched = ORDER_CASES[name]
    with tempfile.TemporaryDirectory() as tmp:
        engine, _, log = tf.firmware_engine("256M", 1, tmp)
        engine.args += drive_flags(tmp, drives) + ["--boot-order", order]
        with engine:
            text = tf.wait_log(log, r"Vireo boot sector of drive \d+ ran", engine, tf.BOOT_TIMEOUT)
        for needle in ["boot order:\n1: %s\n" % first, "Searching bootorder for: %s\n" % searched,
                       message(booted).decode()]:
            if needle not in text:
                vt.fail("the firmware log lacks %r:\n%s" % (needle, text[-3000:]))


def grub_case(name):
    """GRUB from the rescue image: "Welcome to GRUB!", then its menu with both
    entries of tests/images/grub.cfg (the first highlighted), and Down, e
    opens the second entry in GRUB's editor, showing its commands. Prints how
    long each step took."""
    iso = os.path.join(vt.images_dir(), "grub-rescue.iso")
    if not os.path.exists(iso):
        vt.fail("no %s: run tests/images/build-images.sh (./setup.sh does)" % iso)
    with tempfile.TemporaryDirectory() as tmp:
        engine, port, _ = tf.firmware_engine("256M", 1, tmp)
        engine.args += [arg.format(iso=iso) for arg in GRUB_CASES[name]]
        with engine:
            probe = tf.td.Probe(port)
            shapes = tf.vgabios_shapes()
            start = time.monotonic()
            tf.wait_screen(probe, r"Welcome to GRUB!", engine, GRUB_TIMEOUT, shapes)
            print("time to 'Welcome to GRUB!': %.1f s" % (time.monotonic() - start))
            lines = tf.wait_screen(probe, r"GNU GRUB  version 2\.(.|\n)*Vireo test: second entry", engine,
                                   GRUB_TIMEOUT, shapes)
            print("time to GRUB's menu: %.1f s" % (time.monotonic() - start))
            entries = [m.groups() for m in (re.match(r" .(\*| )(Vireo test: .*?) *.$", line) for line in lines) if m]
            if entries != [("*", "Vireo test: first entry"), (" ", "Vireo test: second entry")]:
                vt.fail("GRUB's menu entries read %s; the screen:\n%s" % (entries, "\n".join(lines)))
            press(probe, DOWN)
            press(probe, ord("e"))
            tf.wait_screen(probe, r"setparams 'Vireo test: second entry'(.|\n)*"
                                  r"echo \"Vireo test: second entry chosen\"", engine, 60, shapes)
            probe.close()


CASES = {
    **{name: (lambda name=name: grub_case(name)) for name in GRUB_CASES},
    **{"menu-" + name: (lambda name=name: boot_menu_case(name)) for name in MENU_CASES},
    **{"order-" + name: (lambda name=name: boot_order_case(name)) for name in ORDER_CASES},
}

if __name__ == "__main__":
    vt.require_kvm()
    CASES[sys.argv[1]]()
    print("ok: %s" % sys.argv[1])
