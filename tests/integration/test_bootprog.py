#!/usr/bin/env python3
"""Our boot program (tests/guest/boot/) through SeaBIOS from every kind of
boot device: a hard-disk image with the program in its MBR, or an El Torito
no-emulation CD. What it prints on COM1 and shows over VNC is compared
with what the host knows about the image. Usage: test_bootprog.py CASE"""
import functools
import os
import random
import re
import struct
import subprocess
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.dirname(__file__))
import test_display as td  # noqa: E402
import test_firmware as tf  # noqa: E402
import vireo_test as vt  # noqa: E402

# Boot device kinds: engine arguments ({image} is the image's path) and the
# kind of image the program is on ("disk" or "cd").
KINDS = {
    "virtio-disk": (["--disk", "{image}"], "disk"),
    "ide-disk": (["--disk", "{image},bus=ide"], "disk"),
    "ide-cd": (["--cdrom", "{image}"], "cd"),
    "sata-disk": (["--disk", "{image},bus=sata"], "disk"),
    "sata-cd": (["--disk", "{image},bus=sata,media=cdrom"], "cd"),
}

DATA_BYTES = 65536          # boot.c's data area
DISK_DATA_LBA = 2048        # where the disk image holds it (1 MiB)
DISK_IMAGE_BYTES = 4 << 20
SECTOR = {"disk": 512, "cd": 2048}
WRITE_MARKER = b"VIREO BOOT WROTE drive="
HEADER_MAGIC = b"VBP1"      # boot.S's header: the magic, then data_lba
WIDTH, HEIGHT = 640, 480
KEY_X, KEY_Y, KEY_SCALE = 16, 400, 2
BOOT_TIMEOUT = 120
# Keys typed in the main case: VNC keysyms and the int 16h word the program echoes.
TYPED = [(["61"], "a", 0x1E61), (["ffe1", "5a"], "Z", 0x2C5A), (["31"], "1", 0x0231)]


def boot_program():
    return open(os.path.join(vt.guest_dir(), "boot.bin"), "rb").read()


def with_data_lba(program, lba):
    at = program.index(HEADER_MAGIC) + len(HEADER_MAGIC)
    return program[:at] + struct.pack("<I", lba) + program[at + 4:]


def disk_image(tmp, data):
    """(path, data LBA): the program from LBA 0, the data area at 1 MiB."""
    path = os.path.join(tmp, "boot.img")
    with open(path, "wb") as f:
        f.write(with_data_lba(boot_program(), DISK_DATA_LBA))
        f.seek(DISK_DATA_LBA * SECTOR["disk"])
        f.write(data)
        f.truncate(DISK_IMAGE_BYTES)
    return path, DISK_DATA_LBA


def iso_extents(iso):
    """{path in the ISO: first 2048-byte block}, as xorriso reports them."""
    out = subprocess.run(["xorriso", "-indev", iso, "-find", "/", "-exec", "report_lba", "--"],
                         capture_output=True, text=True, check=True)
    return {path: int(lba) for lba, path in re.findall(r"File data lba:\s*\d+ ,\s*(\d+) ,.*'(.*)'",
                                                        out.stdout + out.stderr)}


def cd_image(tmp, data):
    """(path, data LBA): an El Torito no-emulation ISO whose boot image is the
    whole program (the boot catalog's load size covers it) and whose
    /data.bin is the data area; the data's LBA goes into the program's
    header inside the ISO."""
    root = os.path.join(tmp, "root")
    os.mkdir(root)
    program = boot_program()
    with open(os.path.join(root, "boot.bin"), "wb") as f:
        f.write(program)
    with open(os.path.join(root, "data.bin"), "wb") as f:
        f.write(data)
    iso = os.path.join(tmp, "boot.iso")
    subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-o", iso, "-b", "boot.bin", "-no-emul-boot",
                    "-boot-load-size", str((len(program) + 511) // 512), root], check=True)
    extents = iso_extents(iso)
    with open(iso, "r+b") as f:
        f.seek(extents["/boot.bin"] * SECTOR["cd"])
        f.write(with_data_lba(program, extents["/data.bin"]))
    return iso, extents["/data.bin"]


IMAGES = {"disk": disk_image, "cd": cd_image}


def tap(probe, keysyms):
    """Presses the keys (VNC keysyms, hex) in order and lets go in reverse."""
    for k in keysyms:
        probe.ask("key %s 1" % k)
    for k in reversed(keysyms):
        probe.ask("key %s 0" % k)


class Boot:
    """The engine booting our program from a device of kind KIND, with a VNC viewer."""

    def __init__(self, tmp, kind):
        args, self.image_kind = KINDS[kind]
        self.data = random.Random(kind).randbytes(DATA_BYTES)
        self.image, self.data_lba = IMAGES[self.image_kind](tmp, self.data)
        self.engine, self.port, self.log = tf.firmware_engine("128M", 1, tmp)
        self.engine.args += [a.format(image=self.image) for a in args]

    def __enter__(self):
        self.engine.__enter__()
        self.probe = td.Probe(self.port)
        return self

    def __exit__(self, *exc):
        self.probe.close()
        return self.engine.__exit__(*exc)

    def tap(self, keysyms):
        tap(self.probe, keysyms)

    def to_key_loop(self):
        """Past the disk checks and the graphics mode, to where keys are echoed."""
        self.engine.wait_for(r"press a key for graphics", BOOT_TIMEOUT)
        self.tap(["20"])
        self.engine.wait_for(r"keys: r resets", 60)


def bar_pattern(x, y):
    """boot.c's draw_test_pattern()."""
    if x in (0, WIDTH - 1) or y in (0, HEIGHT - 1):
        return (255, 255, 255)
    bar = x // (WIDTH // 8)
    return (255 if bar & 4 else 0, 255 if bar & 2 else 0, 255 if bar & 1 else 0)


def with_keys(glyphs, background):
    """background with boot.c's key line: the i-th glyph's rows in white on
    black, each dot KEY_SCALE pixels square."""
    def expected(x, y):
        col, dx, dy = (x - KEY_X) // (8 * KEY_SCALE), (x - KEY_X) % (8 * KEY_SCALE), y - KEY_Y
        if x >= KEY_X and 0 <= col < len(glyphs) and 0 <= dy < 16 * KEY_SCALE:
            lit = glyphs[col][dy // KEY_SCALE] << (dx // KEY_SCALE) & 0x80
            return (255, 255, 255) if lit else (0, 0, 0)
        return background(x, y)
    return expected


@functools.lru_cache(maxsize=None)
def vgabios_font():
    return {c: bits for bits, c in tf.vgabios_shapes().items()}


def vgabios_glyph(char):
    """The 16 rows of CHAR in the VGA BIOS's 8x16 font."""
    return vgabios_font()[char]


def wait_image(probe, expected, what, seconds=20):
    """Waits until the viewer's WIDTHxHEIGHT picture is expected(x, y)
    everywhere (it can be a refresh behind the guest, more so under the
    sanitizers); then fails naming the first pixel that differs."""
    want = bytes(v for y in range(HEIGHT) for x in range(WIDTH) for v in expected(x, y))
    deadline = time.monotonic() + seconds
    while True:
        rgb = probe.screen(WIDTH, HEIGHT)
        if rgb == want:
            return
        if time.monotonic() > deadline:
            td.check_image(rgb, WIDTH, HEIGHT, expected, what)
        time.sleep(0.5)


def check_crc(engine, how, data_lba, data):
    m = engine.wait_for(how + r" lba=(\d+) crc=([0-9a-f]{8})", 60)
    if int(m.group(1)) != data_lba or int(m.group(2), 16) != zlib.crc32(data):
        vt.fail("%s: the program read LBA %s with CRC-32 %s; the image has %08x at LBA %d"
                % (how, m.group(1), m.group(2), zlib.crc32(data), data_lba))


def check_text_screen(boot, banner):
    """The banner and the first CRC line on the text screen (SeaVGABIOS's font)."""
    shapes = tf.vgabios_shapes()
    deadline = time.monotonic() + 30
    while True:
        screen = "\n".join(td.read_text(boot.probe.screen(720, 400), 720, 400, shapes))
        if banner in screen and "read42 lba=%d crc=" % boot.data_lba in screen:
            return
        if time.monotonic() > deadline:
            vt.fail("the text screen lacks %r; it reads:\n%s" % (banner, screen))
        time.sleep(0.5)


def check_written(image, sector):
    with open(image, "rb") as f:
        f.seek(sector * SECTOR["disk"])
        got = f.read(SECTOR["disk"])
    want = WRITE_MARKER + b"80"
    if got != want.ljust(SECTOR["disk"], b"\0"):
        vt.fail("sector %d of the image holds %r, not the program's %r" % (sector, got[:40], want))


def check_everything(kind):
    """Banner, CRC-32 of the data area (AH=42h, and AH=02h on disks), the
    sector written (disks), the VBE pattern pixel for pixel, and keys echoed
    to COM1 and drawn on the screen."""
    with tempfile.TemporaryDirectory() as tmp:
        with Boot(tmp, kind) as boot:
            engine, bps = boot.engine, SECTOR[boot.image_kind]
            start = time.monotonic()
            m = engine.wait_for(r"(VIREO BOOT drive=([0-9a-f]{2}) bps=(\d+))\r\n", BOOT_TIMEOUT)
            print("time to the banner: %.1f s" % (time.monotonic() - start))
            banner, drive = m.group(1), int(m.group(2), 16)
            if int(m.group(3)) != bps or (drive != 0x80 if boot.image_kind == "disk" else drive < 0xE0):
                vt.fail("banner %r: expected bps=%d on a %s" % (banner, bps, boot.image_kind))
            check_crc(engine, "read42", boot.data_lba, boot.data)
            if boot.image_kind == "disk":
                check_crc(engine, "read02", boot.data_lba, boot.data)
                m = engine.wait_for(r"wrote lba=(\d+)\r\n", 30)
                if int(m.group(1)) != boot.data_lba + DATA_BYTES // bps:
                    vt.fail("the program wrote LBA %s, not the one after the data area" % m.group(1))
            engine.wait_for(r"press a key for graphics", 30)
            check_text_screen(boot, banner)
            boot.tap(["20"])
            mode = engine.wait_for(r"VBE ok mode=([0-9a-f]{4}) 640x480x(\d+)\r\n", 60)
            if mode.group(2) != "32":
                vt.fail("the program fell back to %s bits per pixel" % mode.group(2))
            engine.wait_for(r"keys: r resets", 30)
            wait_image(boot.probe, bar_pattern, "VBE pattern")
            for keysyms, _, word in TYPED:
                boot.tap(keysyms)
                engine.wait_for(r"key %04x" % word, 30)
            glyphs = [vgabios_glyph(char) for _, char, _ in TYPED]
            wait_image(boot.probe, with_keys(glyphs, bar_pattern), "typed keys")
            print("VBE mode %s: pattern and %d keys pixel-exact" % (mode.group(1), len(TYPED)))
        if boot.image_kind == "disk":  # the engine has ended: the image is all on disk
            check_written(boot.image, boot.data_lba + DATA_BYTES // bps)


def check_reset(key, how):
    """KEY makes the program reset the machine HOW: SeaBIOS starts again and
    boots the program a second time."""
    with tempfile.TemporaryDirectory() as tmp, Boot(tmp, "virtio-disk") as boot:
        boot.to_key_loop()
        boot.tap([key])
        boot.engine.wait_for(r"(?s)VIREO BOOT drive=80.*VIREO BOOT drive=80", BOOT_TIMEOUT)
        log = open(boot.log, errors="replace").read()
        starts = len(re.findall(r"(?m)^BUILD: ", log))  # SeaBIOS's second log line (the first is repeated later)
        if starts != 2:
            vt.fail("after a reset %s SeaBIOS started %d times:\n%s" % (how, starts, log[-3000:]))


def case_reset_cf9():
    """'r': 0x06 to the reset control register 0xCF9."""
    check_reset("72", "through 0xCF9")


def case_reset_keyboard_controller():
    """'k': 0xFE (pulse the reset line) to the i8042's command port."""
    check_reset("6b", "through the i8042")


def case_acpi_power_off():
    """'p': SLP_TYP(S5) | SLP_EN to PM1a_CNT at the PM base SeaBIOS programmed
    into the PIIX4's PMBA: the engine ends with status 0 and no second boot."""
    with tempfile.TemporaryDirectory() as tmp, Boot(tmp, "virtio-disk") as boot:
        boot.to_key_loop()
        boot.tap(["70"])
        if boot.engine.wait_exit(30) != 0:
            vt.fail("the engine's exit status after the power-off is %d" % boot.engine.proc.returncode)
        if boot.engine.output().count("VIREO BOOT") != 1:
            vt.fail("the program ran %d times; a power-off must not reboot" % boot.engine.output().count("VIREO BOOT"))


# boot.c's demo: (text, y, scale, colour) centred on DEMO_BACKGROUND.
DEMO_BACKGROUND = (0x20, 0x30, 0x60)
DEMO_TEXTS = [("Vireo", 120, 8, (0xF0, 0xC0, 0x40)),
              ("Type here or on the terminal; Esc powers off.", 300, 1, (255, 255, 255))]


def demo_screen():
    placed = [([vgabios_glyph(c) for c in text], (WIDTH - len(text) * 8 * scale) // 2, y, scale, colour)
              for text, y, scale, colour in DEMO_TEXTS]

    def expected(x, y):
        for glyphs, x0, y0, scale, colour in placed:
            dx, dy = (x - x0) // scale, (y - y0) // scale
            if x >= x0 and y >= y0 and dx < 8 * len(glyphs) and dy < 16:
                return colour if glyphs[dx // 8][dy] << (dx % 8) & 0x80 else DEMO_BACKGROUND
        return DEMO_BACKGROUND
    return expected


def case_demo():
    """The demo ./setup.sh run boots (boot-demo.img from the build, read-only,
    through SeaBIOS): "Vireo" drawn large, pixel for pixel; a key typed on the
    screen and a byte typed on COM1 drawn under it and echoed on COM1; Esc
    powers the machine off."""
    with tempfile.TemporaryDirectory() as tmp:
        engine, port, _ = tf.firmware_engine("64M", 1, tmp)
        engine.args += ["--disk", os.path.join(vt.guest_dir(), "boot-demo.img") + ",ro"]
        with engine:
            probe = td.Probe(port)
            engine.wait_for(r"Esc powers off\.\r\n", BOOT_TIMEOUT)
            wait_image(probe, demo_screen(), "the demo's name and hint")
            tap(probe, ["76"])
            engine.wait_for(r"off\.\r\nv", 30)
            engine.send(b"x")
            engine.wait_for(r"off\.\r\nvx", 30)
            wait_image(probe, with_keys([vgabios_glyph("v"), vgabios_glyph("x")], demo_screen()), "the keys typed")
            tap(probe, ["ff1b"])
            if engine.wait_exit(30) != 0:
                vt.fail("the engine's exit status after Esc is %d" % engine.proc.returncode)
            probe.close()


CASES = {name[5:].replace("_", "-"): fn for name, fn in globals().items() if name.startswith("case_")}
CASES.update({kind: (lambda kind=kind: check_everything(kind)) for kind in KINDS})

if __name__ == "__main__":
    vt.require_kvm()
    CASES[sys.argv[1]]()
    print("ok: %s" % sys.argv[1])
