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
    """The log's whole lines once pattern appears in them (the engine must
    stay up). A line still being written is left out: the guest writes the
    log a byte at a time, so a read can end in the middle of one."""
    deadline = time.monotonic() + timeout
    while True:
        text = open(log, errors="replace").read() if os.path.exists(log) else ""
        lines = text[:text.rfind("\n") + 1]
        if re.search(pattern, lines):
            return lines
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


BOOT_MESSAGE = b"Vireo boot sector ran\n"
HALT = bytes([0xFA, 0xF4,                  # done: cli; hlt
              0xEB, 0xFC])                 # jmp done
# PM1a_CNT (PM base 0x600 + 4) = SLP_TYP 0 (our \_S5) | SLP_EN: soft-off.
POWER_OFF = bytes([0xBA, 0x04, 0x06,       # mov dx, 0x604
                   0xB8, 0x00, 0x20,       # mov ax, 0x2000
                   0xEF]) + HALT           # out dx, ax


def boot_sector(then, message=BOOT_MESSAGE):
    """A boot sector of ours: DS = 0, `message` out to the debug console
    (0x402) a byte at a time, then the code `then`."""
    prefix_size = 18
    code = bytes([0x31, 0xC0,              # xor ax, ax
                  0x8E, 0xD8,              # mov ds, ax
                  0xBE]) + (0x7C00 + prefix_size + len(then)).to_bytes(2, "little") + bytes([  # mov si, message
                  0xBA, 0x02, 0x04,        # mov dx, 0x402
                  0xAC,                    # next: lodsb
                  0x84, 0xC0,              # test al, al
                  0x74, 0x03,              # jz then
                  0xEE,                    # out dx, al
                  0xEB, 0xF8]) + then      # jmp next
    return (code + message + b"\0").ljust(510, b"\0") + b"\x55\xAA"


def boot_disk(tmp, then=HALT, name="boot.img", message=BOOT_MESSAGE):
    """A 1 MiB raw disk in tmp whose first sector is boot_sector(then, message)."""
    disk = os.path.join(tmp, name)
    with open(disk, "wb") as f:
        f.write(boot_sector(then, message).ljust(1 << 20, b"\0"))
    return disk


def boot_cd(tmp, name="boot.iso", message=BOOT_MESSAGE):
    """An El Torito no-emulation ISO (xorriso) in tmp whose boot image is our
    boot sector, printing message."""
    root = os.path.join(tmp, name + ".root")
    os.mkdir(root)
    with open(os.path.join(root, "boot.bin"), "wb") as f:
        f.write(boot_sector(HALT, message))
    iso = os.path.join(tmp, name)
    subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-o", iso, "-b", "boot.bin", "-no-emul-boot",
                    "-boot-load-size", "4", root], check=True)
    return iso


def check_boots(tmp, args, needles):
    """SeaBIOS runs our boot sector from the device args give, and its log
    (returned) says what it found on the way."""
    engine, _, log = firmware_engine("256M", 1, tmp)
    engine.args += args
    with engine:
        start = time.monotonic()
        text = wait_log(log, BOOT_MESSAGE.decode().strip(), engine, BOOT_TIMEOUT)
        print("time to the boot sector's message: %.1f s" % (time.monotonic() - start))
        for needle in needles:
            if needle not in text:
                vt.fail("the firmware log lacks %r:\n%s" % (needle, text[-3000:]))
    return text


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


def case_seabios_finds_ahci_drives():
    """Our boot disk, a CD-ROM and a 200 GiB disk on SATA: SeaBIOS finds the
    AHCI controller at 00:1f.0, identifies each drive on its port (the disks
    with their sizes, the second through its 48-bit capacity), finds nothing
    on the empty ports 3-5, and boots the first disk."""
    with tempfile.TemporaryDirectory() as tmp:
        big = os.path.join(tmp, "big.img")
        with open(big, "wb") as f:
            f.truncate(200 << 30)  # past 2^28 sectors
        text = check_boots(tmp, ["--disk", boot_disk(tmp) + ",bus=sata", "--disk", boot_cd(tmp) + ",bus=sata,media=cdrom",
                                 "--disk", big + ",bus=sata"],
                           ["PCI: init bdf=00:1f.0 id=8086:2922", "AHCI controller at 00:1f.0, iobase 0x",
                            'AHCI/0: registering: "AHCI/0: VIREO HARDDISK ATA-8 Hard-Disk (1 MiBytes)"',
                            'AHCI/1: registering: "DVD/CD [AHCI/1: VIREO DVD-ROM ATAPI-8 DVD/CD]"',
                            'AHCI/2: registering: "AHCI/2: VIREO HARDDISK ATA-8 Hard-Disk (200 GiBytes)"',
                            "Booting from Hard Disk..."])
        for port in range(3, 6):
            if "AHCI/%d: registering" % port in text:
                vt.fail("SeaBIOS found a drive on the empty port %d" % port)


def case_seabios_ide_master_slave_cd():
    """A blank 2 MiB primary master, our boot disk as primary slave and --cdrom:
    SeaBIOS names all three with their sizes, finds no boot sector on the
    blank disk and boots the CD."""
    with tempfile.TemporaryDirectory() as tmp:
        blank = os.path.join(tmp, "blank.img")
        with open(blank, "wb") as f:
            f.truncate(2 << 20)
        check_boots(tmp, ["--disk", blank + ",bus=ide", "--disk", boot_disk(tmp) + ",bus=ide", "--cdrom", boot_cd(tmp)],
                    ["ata0-0: VIREO HARDDISK ATA-8 Hard-Disk (2 MiBytes)",
                     "ata0-1: VIREO HARDDISK ATA-8 Hard-Disk (1 MiBytes)",
                     "DVD/CD [ata1-0: VIREO DVD-ROM ATAPI-8 DVD/CD]", "Booting from DVD/CD..."])


def dsdt_length():
    """The length of the firmware board's DSDT, compiled here by iasl from
    its source as the build compiles it."""
    source = os.path.join(os.path.dirname(__file__), "..", "..", "engine", "boot", "asl", "dsdt_pc.asl")
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, "dsdt")
        subprocess.run(["iasl", "-I", os.path.dirname(source), "-p", prefix, source], check=True,
                       stdout=subprocess.DEVNULL)
        return os.path.getsize(prefix + ".aml")


def case_seabios_acpi_tables():
    """SeaBIOS installs our ACPI tables from fw_cfg's table loader instead of
    building its own: it moves the PM base to 0x600, finds our FADT through
    our XSDT, parses our DSDT (its length is ours) and finds the PS/2
    keyboard in it; its own builder's messages never appear."""
    with tempfile.TemporaryDirectory() as tmp:
        engine, _, log = firmware_engine("256M", 2, tmp)
        with engine:
            text = wait_no_bootable_device(engine, log)
    check_log(text, 256 << 20, 2)
    for needle in ["Moving pm_base to 0x600", "PS2 keyboard initialized"]:
        if needle not in text:
            vt.fail("the firmware log lacks %r:\n%s" % (needle, text[-3000:]))
    if not re.search(r"table\(50434146\)=0x[0-9a-f]+ \(via xsdt\)", text):
        vt.fail("SeaBIOS did not find our FADT (FACP) through our XSDT:\n%s" % text[-3000:])
    parsed = re.search(r"ACPI: parse DSDT at 0x[0-9a-f]+ \(len (\d+)\)", text)
    if not parsed or int(parsed.group(1)) != dsdt_length():
        vt.fail("SeaBIOS parsed a DSDT of %s bytes, ours has %d" % (parsed and parsed.group(1), dsdt_length()))
    for absent in ["Copying ACPI RSDP", "ACPI DSDT=", "ACPI: no PS/2 keyboard present"]:
        if absent in text:
            vt.fail("the firmware log has %r: SeaBIOS used tables of its own" % absent)


def case_seabios_then_power_off():
    """A boot sector writes SLP_TYP 0 | SLP_EN to PM1a_CNT at 0x604, where our
    FADT puts it and SeaBIOS placed the PM block: the engine exits 0."""
    with tempfile.TemporaryDirectory() as tmp:
        engine, _, log = firmware_engine("256M", 1, tmp)
        engine.args += ["--disk", boot_disk(tmp, POWER_OFF)]
        with engine:
            wait_log(log, BOOT_MESSAGE.decode().strip(), engine, BOOT_TIMEOUT)
            try:
                status = engine.proc.wait(30)
            except subprocess.TimeoutExpired:
                vt.fail("the engine still runs 30 s after the guest wrote S5 to PM1a_CNT")
            if status != 0:
                vt.fail("the engine exited %d after the guest powered off; stderr: %s"
                        % (status, engine.proc.stderr.read().decode(errors="replace")))


CASES = {name[5:].replace("_", "-"): fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    vt.require_kvm()
    CASES[sys.argv[1]]()
    print("ok: %s" % sys.argv[1])
