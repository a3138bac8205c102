#!/usr/bin/python3
"""Drives the real vireo app under Xvfb through AT-SPI, the way assistive
tools see it: finds widgets by role and accessible name, clicks, types, and
checks the machine folders the app writes.

    test_app.py CASE

Each case gets its own X server, session bus and XDG folders. Needs
/usr/bin/python3 with python3-gi and gir1.2-atspi-2.0 (Debian), Xvfb and
dbus-run-session. Exit status: 0 pass, 1 fail, 77 skip."""
import configparser
import faulthandler
import os
import random
import re
import shutil
import signal
import socket as socketlib
import struct
import subprocess
import sys
import tempfile
import time
import warnings

import vireo_test as vt  # its require_kvm(): the one line a host without KVM skips with

# Atspi.Action.get_action_name is marked deprecated, but it is the
# untranslated name ("click") and what we want.
warnings.filterwarnings("ignore", category=DeprecationWarning)

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("VIREO_SOURCE_DIR", os.path.dirname(os.path.dirname(HERE)))
APP = os.environ.get("VIREO_APP", os.path.join(SOURCE_DIR, "build", "app", "vireo"))
ENGINE = os.environ.get("VIREO_ENGINE", os.path.join(SOURCE_DIR, "build", "engine", "vireo-engine"))


def fail(message):
    print("FAIL: " + message, flush=True)
    sys.exit(1)


POLL_SECONDS = 0.1  # the benchmark polls faster


def wait_for(what, check, timeout=10.0):
    """Polls check() until it returns something true; fails naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            fail("timed out waiting for " + what)
        time.sleep(POLL_SECONDS)


class App:
    """The app on its own X server, session bus and XDG folders."""

    def __init__(self, tmp, lang="C.UTF-8"):
        self.tmp = tmp
        self.data = os.path.join(tmp, "data")
        self.machines = os.path.join(self.data, "vireo", "machines")
        env = dict(os.environ)
        for name in ("config", "run", "cache"):
            os.makedirs(os.path.join(tmp, name), mode=0o700, exist_ok=True)
        env.update(XDG_DATA_HOME=self.data, XDG_CONFIG_HOME=os.path.join(tmp, "config"),
                   XDG_RUNTIME_DIR=os.path.join(tmp, "run"), XDG_CACHE_HOME=os.path.join(tmp, "cache"),
                   HOME=tmp, LANG=lang, LC_ALL=lang, GSETTINGS_BACKEND="memory",
                   GTK_THEME="Adwaita", NO_AT_BRIDGE="0", VIREO_ENGINE=ENGINE)
        env.pop("LANGUAGE", None)
        self.env = env
        self.xvfb = None
        self.process = None

    def start_x(self):
        # A display number of our own, away from the :0, :1... other tests
        # and desktops take first; Xvfb says on a pipe when it is ready.
        for _ in range(20):
            number = random.randint(100, 999)
            if os.path.exists("/tmp/.X%d-lock" % number):
                continue
            read_fd, write_fd = os.pipe()
            xvfb = subprocess.Popen(["Xvfb", ":%d" % number, "-displayfd", str(write_fd), "-screen", "0",
                                     "1024x700x24", "-nolisten", "tcp"], pass_fds=(write_fd,),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            os.close(write_fd)
            with os.fdopen(read_fd) as pipe:
                ready = pipe.readline().strip() == str(number)
            if ready and xvfb.poll() is None:
                self.xvfb = xvfb
                break
            xvfb.kill()
            xvfb.wait()
        else:
            fail("Xvfb did not start")
        self.env["DISPLAY"] = ":%d" % number
        os.environ["DISPLAY"] = self.env["DISPLAY"]

    def start(self):
        if not self.xvfb:
            self.start_x()
        self.log = open(os.path.join(self.tmp, "app.log"), "w+")
        self.process = subprocess.Popen([APP], env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        self.root = wait_for("the app on the accessibility bus", self.find_app, timeout=20)
        self.window = wait_for("the main window", lambda: find(self.root, "frame", "Vireo"))

    def find_app(self):
        if self.process.poll() is not None:
            self.log.seek(0)
            fail("the app exited with status %d:\n%s" % (self.process.returncode, self.log.read()))
        desktop = Atspi.get_desktop(0)
        for i in range(desktop.get_child_count()):
            app = desktop.get_child_at_index(i)
            try:
                if app and app.get_process_id() == self.process.pid:
                    return app
            except GLib.Error:
                pass
        return None

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        if self.xvfb:
            self.xvfb.terminate()
            self.xvfb.wait(timeout=10)


# --- the accessibility tree ---------------------------------------------------

def children(node):
    try:
        return [node.get_child_at_index(i) for i in range(node.get_child_count())]
    except GLib.Error:
        return []


def showing(node):
    return node.get_state_set().contains(Atspi.StateType.SHOWING)


def walk(node):
    yield node
    for child in children(node):
        if child is not None:
            yield from walk(child)


def find_all(node, role, name=None, visible=True):
    found = []
    for n in walk(node):
        try:
            if n.get_role_name() == role and (name is None or n.get_name() == name) and \
                    (not visible or showing(n)):
                found.append(n)
        except GLib.Error:
            pass
    return found


def find(node, role, name=None, visible=True):
    found = find_all(node, role, name, visible)
    return found[0] if found else None


def text_of(node):
    if "Text" in node.get_interfaces():
        return Atspi.Text.get_text(node, 0, -1)
    return node.get_name()


def label_texts(node):
    return [text_of(n) for n in find_all(node, "label")]


def click(node):
    for i in range(Atspi.Action.get_n_actions(node)):
        if Atspi.Action.get_action_name(node, i) == "click":
            Atspi.Action.do_action(node, i)
            return
    fail("%s %r cannot be clicked" % (node.get_role_name(), node.get_name()))


def set_text(node, text):
    Atspi.EditableText.set_text_contents(node, text)


def set_value(node, value):
    Atspi.Value.set_current_value(node, value)


def row(app, name):
    machines = find(app.window, "list box")
    return machines and find(machines, "list item", name)


# --- the cases ------------------------------------------------------------------

def write_machine(app, folder, text):
    path = os.path.join(app.machines, folder)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "machine.ini"), "w") as f:
        f.write(text)
    return os.path.join(path, "machine.ini")


def case_empty_state(app):
    app.start()
    wait_for("the empty state", lambda: find(app.window, "label", "No machines yet"))
    if not find(app.window, "push button", "Create a Machine"):
        fail("the empty state has no Create a Machine button")
    if find(app.window, "list box"):
        fail("the machine list shows although there are no machines")


def case_create_machine(app):
    """A machine that boots a Linux kernel directly: the Linux preset's
    virtio hardware, no firmware setting (the kernel boots without one)."""
    kernel = os.path.join(app.tmp, "vmlinuz-test")
    with open(kernel, "wb") as f:
        f.write(b"not really a kernel")
    app.start()
    click(wait_for("the New button", lambda: find(app.window, "push button", "New")))
    dialog = wait_for("the New Machine dialog", lambda: find(app.root, "dialog", "New Machine"))
    create = wait_for("the Create button", lambda: find(dialog, "push button", "Create"))
    click(find(dialog, "radio button", "Linux kernel"))
    wait_for("the initrd field", lambda: find(dialog, "text", "Initial ramdisk"))
    name_entry, file_entry = find(dialog, "text", "Name"), find(dialog, "text", "File")
    if sensitive(create):
        fail("Create is possible before a file is chosen")
    set_text(file_entry, kernel)
    wait_for("the name suggested from the file", lambda: text_of(name_entry) == "vmlinuz-test")
    set_text(name_entry, "Test Kernel")
    initrd = find(dialog, "text", "Initial ramdisk")
    set_text(initrd, os.path.join(app.tmp, "no-initrd"))
    wait_for("the missing-initrd message",
             lambda: "There is no file “%s”." % os.path.join(app.tmp, "no-initrd") in label_texts(dialog))
    if sensitive(create):
        fail("Create is possible with a missing initrd")
    with open(os.path.join(app.tmp, "initrd-test"), "wb") as f:
        f.write(b"not really an initrd")
    set_text(initrd, os.path.join(app.tmp, "initrd-test"))
    memory, cpus = find(dialog, "spin button", "Memory (MiB)"), find(dialog, "spin button", "Processors")
    # Processors are bounded by this computer (memory past it is refused
    # with a message, see case_new_validation).
    if (Atspi.Value.get_maximum_value(cpus), Atspi.Value.get_minimum_value(cpus)) != (host_cpus(), 1):
        fail("processors go up to %d, not %d" % (Atspi.Value.get_maximum_value(cpus), host_cpus()))
    if Atspi.Value.get_minimum_value(memory) != 32:
        fail("memory starts at %d MiB, not 32" % Atspi.Value.get_minimum_value(memory))
    set_value(memory, 256)
    set_value(cpus, 1)
    set_value(find(dialog, "spin button", "Disk (GiB)"), 0)   # no disk
    wait_for("Create to become possible", lambda: sensitive(create))
    click(create)

    item = wait_for("the new machine in the list", lambda: row(app, "Test Kernel"))
    texts = label_texts(item)
    for expected in ("Test Kernel", "Linux kernel vmlinuz-test", "Stopped", "256 MiB · 1 processor"):
        if expected not in texts:
            fail("the row shows %r, not %r" % (texts, expected))
    ini = os.path.join(app.machines, "Test Kernel", "machine.ini")
    with open(ini) as f:
        text = f.read()
    expected = ("[machine]\nschema=1\nname=Test Kernel\nmemory=256M\ncpus=1\ncpu=host\nno-reboot=false\n\n"
                "[boot]\nkernel=%s\ninitrd=%s\nmenu=false\nmenu-wait=3\n\n[devices]\nserial=none\nrng=true\nnet=user\n\n"
                "[display]\ndisplay=sdl\ngpu=virtio\n" % (kernel, os.path.join(app.tmp, "initrd-test")))
    if text != expected:
        fail("machine.ini is\n%s\nnot\n%s" % (text, expected))
    if os.listdir(app.machines) != ["Test Kernel"]:
        fail("the library holds %r" % os.listdir(app.machines))


def host_mib():
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") >> 20


def host_cpus():
    return min(len(os.sched_getaffinity(0)), 255)


def ini_size(mib):
    """A size as machine.ini writes it: in the largest unit that is exact."""
    return "%dG" % (mib >> 10) if mib % 1024 == 0 else "%dM" % mib


def sensitive(node):
    return node.get_state_set().contains(Atspi.StateType.SENSITIVE)


def make_iso(app, name, label, files=None, joliet=False):
    """A real ISO 9660 image with volume label `label`, made by xorriso from
    `files` (path: content; by default a README), with Joliet and Rock Ridge
    names as the distributions' images have them when `joliet`."""
    if not shutil.which("xorriso"):
        fail("xorriso is not installed (Debian package xorriso; ./setup.sh deps installs it)")
    content = os.path.join(app.tmp, name + "-content")
    for path, text in (files or {"README.TXT": "an installer\n"}).items():
        os.makedirs(os.path.dirname(os.path.join(content, path)), exist_ok=True)
        with open(os.path.join(content, path), "w") as f:
            f.write(text)
    iso = os.path.join(app.tmp, name)
    subprocess.run(["xorriso", "-as", "mkisofs", "-V", label, "-o", iso] + (["-J", "-r"] if joliet else []) +
                   [content], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return iso


def make_joliet_first_iso(app, name):
    """Issue 13: two Joliet supplementary volume descriptors (ECMA-119 8.5,
    escape "%/E") before the primary one, written sector by sector since
    xorriso makes no such image; every root is sector 21, an empty
    directory."""
    sector = 2048
    image = bytearray(24 * sector)
    for number, kind, escapes in ((16, 2, b"%/E"), (17, 2, b"%/E"), (18, 1, b""), (19, 255, b"")):
        at = number * sector
        image[at:at + 7] = bytes([kind]) + b"CD001\x01"
        image[at + 88:at + 88 + len(escapes)] = escapes
        root = at + 156  # the root's directory record (ECMA-119 8.4.18, 9.1)
        image[root:root + 34] = (bytes([34, 0]) + struct.pack("<II", 21, 0) + struct.pack("<II", sector, 0) +
                                 bytes(7) + bytes([2, 0, 0]) + struct.pack("<HH", 1, 0) + bytes([1, 0]))
    iso = os.path.join(app.tmp, name)
    with open(iso, "wb") as f:
        f.write(image)
    return iso


def choose(combo, label):
    """Picks the item shown as `label` in a combo box."""
    items = [n.get_name() for n in find_all(combo, "menu item", visible=False)]
    if label not in items:
        fail("%r offers %r, not %r" % (combo.get_name(), items, label))
    Atspi.Selection.select_child(combo, items.index(label))
    wait_for("%r to show %r" % (combo.get_name(), label), lambda: combo.get_name() == label or
             label in [text_of(n) for n in walk(combo)])


def read_ini(path):
    config = configparser.ConfigParser(interpolation=None)
    if not config.read(path):
        fail("no machine.ini at " + path)
    return {"%s/%s" % (group, key): value for group in config.sections() for key, value in config[group].items()}


def assistant(app):
    click(wait_for("the New button", lambda: find(app.window, "push button", "New")))
    return wait_for("the New Machine dialog", lambda: find(app.root, "dialog", "New Machine"))


def create_in(app, dialog, name):
    """Clicks the assistant's Create once it may, and waits for the row of `name`."""
    create = find(dialog, "push button", "Create")
    wait_for("Create to become possible", lambda: sensitive(create))
    click(create)
    return wait_for("%s in the list" % name, lambda: row(app, name))


def case_new_presets(app):
    """The assistant with each operating system's preset, from an installer
    ISO: its volume label suggests the name, the preset picks the disk's and
    the CD-ROM's controller, the graphics, the network and memory bounded by
    this computer; each new disk is a sparse image of the chosen size. Then
    a machine that boots an existing disk image."""
    iso = make_iso(app, "install.iso", "TESTOS_2026")
    half = host_mib() // 2
    presets = [
        # OS, name, machine.ini settings, disk GiB
        ("Windows", "TESTOS_2026", {
            "devices/disks": "disk.img,bus=sata;%s,bus=sata,media=cdrom" % iso, "display/gpu": "std",
            "boot/firmware": "bios", "devices/net": "user", "devices/rng": "false",
            "machine/memory": ini_size(min(4096, half)), "machine/cpus": str(min(2, host_cpus()))}, 64),
        ("Linux", "TESTOS_2026 2", {
            "devices/disks": "disk.img", "devices/cdrom": iso, "display/gpu": "virtio",
            "boot/firmware": "bios", "devices/net": "user", "devices/rng": "true",
            "machine/memory": ini_size(min(2048, half)), "machine/cpus": str(min(2, host_cpus()))}, 20),
        ("Other", "TESTOS_2026 3", {
            "devices/disks": "disk.img,bus=ide", "devices/cdrom": iso, "display/gpu": "std",
            "boot/firmware": "bios", "devices/net": "none", "devices/rng": "false",
            "machine/memory": ini_size(min(1024, half)), "machine/cpus": "1"}, 20),
    ]
    app.start()
    for system, name, settings, disk_gib in presets:
        dialog = assistant(app)
        set_text(find(dialog, "text", "File"), iso)
        wait_for("the name from the ISO's label", lambda: text_of(find(dialog, "text", "Name")) == name)
        choose(find(dialog, "combo box", "Operating system"), system)
        if system == "Linux":  # UEFI is offered, but says it cannot start a machine yet
            choose(find(dialog, "combo box", "Firmware"), "UEFI")
            wait_for("UEFI's inline message", lambda: any("'uefi' is not available yet" in t
                                                          for t in label_texts(dialog)))
            if sensitive(find(dialog, "push button", "Create")):
                fail("a machine with UEFI firmware, which cannot start, may be created")
            choose(find(dialog, "combo box", "Firmware"), "BIOS")
        disk = find(dialog, "spin button", "Disk (GiB)")
        wait_for("the preset's disk size", lambda: Atspi.Value.get_current_value(disk) == disk_gib)
        create_in(app, dialog, name)
        folder = os.path.join(app.machines, name)
        got = read_ini(os.path.join(folder, "machine.ini"))
        for key, value in settings.items():
            if got.get(key) != value:
                fail("the %s preset wrote %s=%r, not %r" % (system, key, got.get(key), value))
        if system == "Windows" and "devices/cdrom" in got:
            fail("the Windows machine has an IDE CD-ROM too: %r" % got["devices/cdrom"])
        image = os.stat(os.path.join(folder, "disk.img"))
        if image.st_size != disk_gib << 30 or image.st_blocks * 512 > 1 << 20:
            fail("disk.img is %d bytes, %d allocated: not a sparse %d GiB image" %
                 (image.st_size, image.st_blocks * 512, disk_gib))

    # A disk image boots as the machine's disk, on the preset's controller;
    # no empty disk is made beside it.
    image = os.path.join(app.tmp, "windows.img")
    with open(image, "wb") as f:
        f.truncate(1 << 20)
    dialog = assistant(app)
    click(find(dialog, "radio button", "Disk image"))
    set_text(find(dialog, "text", "File"), image)
    choose(find(dialog, "combo box", "Operating system"), "Windows")
    wait_for("the name from the image", lambda: text_of(find(dialog, "text", "Name")) == "windows")
    if find(dialog, "spin button", "Disk (GiB)"):
        fail("a new disk is offered beside the disk image")
    click(find(dialog, "push button", "Create"))
    wait_for("the machine on the disk image", lambda: row(app, "windows"))
    got = read_ini(os.path.join(app.machines, "windows", "machine.ini"))
    if (got.get("devices/disks"), got.get("devices/cdrom")) != (image + ",bus=sata", None):
        fail("the disk image machine has disks=%r, cdrom=%r" % (got.get("devices/disks"), got.get("devices/cdrom")))
    if os.listdir(os.path.join(app.machines, "windows")) != ["machine.ini"]:
        fail("the disk image machine's folder holds %r" % os.listdir(os.path.join(app.machines, "windows")))


def case_new_recognized(app):
    """The assistant recognizes the operating system on an installer ISO
    from its files and picks its preset, saying so under the combo; the
    user may still choose another. An ISO it does not know leaves the
    choice alone and asks for one."""
    windows = make_iso(app, "win.iso", "CCCOMA_X64FRE_EN-US_DV9",
                       {"SOURCES/INSTALL.WIM": "wim", "BOOTMGR": "boot manager"})
    debian = make_iso(app, "debian.iso", "Debian 12.8.0 amd64 n", {
        ".disk/info": 'Debian GNU/Linux 12.8.0 "Bookworm" - Official amd64 NETINST with firmware 20241109-11:04',
        "install.amd/vmlinuz": "kernel"}, joliet=True)
    unknown = make_iso(app, "data.iso", "DRIVERS")
    joliet_first = make_joliet_first_iso(app, "joliet-first.iso")
    app.start()

    def recognized(dialog, system, line):
        combo = find(dialog, "combo box", "Operating system")
        wait_for("%s chosen and %r shown" % (system, line),
                 lambda: combo_choice(combo) == system and line in label_texts(dialog))
        return combo

    dialog = assistant(app)
    set_text(find(dialog, "text", "File"), windows)
    recognized(dialog, "Windows", "Recognized: Windows installer")
    create_in(app, dialog, "CCCOMA_X64FRE_EN-US_DV9")
    got = read_ini(os.path.join(app.machines, "CCCOMA_X64FRE_EN-US_DV9", "machine.ini"))
    if got.get("devices/disks") != "disk.img,bus=sata;%s,bus=sata,media=cdrom" % windows:
        fail("the recognized Windows ISO made disks=%r" % got.get("devices/disks"))

    dialog = assistant(app)
    choose(find(dialog, "combo box", "Operating system"), "Other")
    set_text(find(dialog, "text", "File"), debian)
    combo = recognized(dialog, "Linux", "Recognized: Debian 12.8.0 (Linux)")
    choose(combo, "Other")  # the user knows better
    create_in(app, dialog, "Debian 12.8.0 amd64 n")
    got = read_ini(os.path.join(app.machines, "Debian 12.8.0 amd64 n", "machine.ini"))
    if (got.get("devices/disks"), got.get("devices/cdrom")) != ("disk.img,bus=ide", debian):
        fail("the user's Other preset over the recognized Debian made disks=%r, cdrom=%r" %
             (got.get("devices/disks"), got.get("devices/cdrom")))

    dialog = assistant(app)
    choose(find(dialog, "combo box", "Operating system"), "Windows")
    set_text(find(dialog, "text", "File"), unknown)
    recognized(dialog, "Windows", "Not recognized: choose the operating system.")
    if any(t.startswith("Recognized") for t in label_texts(dialog)):
        fail("an unknown ISO is said to be recognized: %r" % label_texts(dialog))

    # Descriptors that once overran the reader's table and crashed the app.
    set_text(find(dialog, "text", "File"), debian)
    recognized(dialog, "Linux", "Recognized: Debian 12.8.0 (Linux)")
    set_text(find(dialog, "text", "File"), joliet_first)
    recognized(dialog, "Linux", "Not recognized: choose the operating system.")


def case_new_validation(app):
    """Problems show next to their field and keep Create insensitive until
    fixed: a name in use, more memory than this computer has, a missing
    file. More than half the memory only warns."""
    write_machine(app, "Taken", "[machine]\nname=Taken\n[boot]\nkernel=/boot/vmlinuz\n")
    iso = os.path.join(app.tmp, "install.iso")
    open(iso, "wb").close()
    app.start()
    dialog = assistant(app)
    create = find(dialog, "push button", "Create")
    name, source = find(dialog, "text", "Name"), find(dialog, "text", "File")
    memory = find(dialog, "spin button", "Memory (MiB)")
    set_text(source, iso)
    wait_for("the name from the file, it being no ISO 9660 image", lambda: text_of(name) == "install")
    wait_for("Create to become possible", lambda: sensitive(create))

    set_text(name, "taken")
    wait_for("the name-taken message", lambda: "A machine called “taken” already exists." in label_texts(dialog))
    if sensitive(create):
        fail("Create is possible with a name in use")
    set_text(name, "Fresh")
    wait_for("the message to go", lambda: not any("already exists" in t for t in label_texts(dialog)))

    host_text = GLib.format_size_full(host_mib() << 20, GLib.FormatSizeFlags.IEC_UNITS)
    set_value(memory, host_mib() + 1024)
    wait_for("the too-much-memory message", lambda: "This computer has only %s." % host_text in label_texts(dialog))
    if sensitive(create):
        fail("Create is possible with more memory than the host has")
    set_value(memory, host_mib() // 2 + 256)
    wait_for("the warning past half the host's memory",
             lambda: "More than half of this computer’s %s: it may become slow." % host_text in label_texts(dialog))
    wait_for("Create to be possible with a warning only", lambda: sensitive(create))

    set_text(source, os.path.join(app.tmp, "gone.iso"))
    wait_for("the missing-file message",
             lambda: "There is no file “%s”." % os.path.join(app.tmp, "gone.iso") in label_texts(dialog))
    if sensitive(create):
        fail("Create is possible with a missing file")
    set_text(source, iso)
    wait_for("Create to become possible again", lambda: sensitive(create))
    if [m for m in os.listdir(app.machines) if m != "Taken"]:
        fail("a machine was made before Create")


def editor(app, name, how):
    select_row(app, name)
    if how == "shortcut":
        press("alt+Return")
    else:
        click(find(app.window, "toggle button", "Main menu"))
        click(wait_for("Edit Settings in the menu", lambda: find(app.window, "push button", "Edit Settings…")))
    return wait_for("the machine editor", lambda: find(app.root, "dialog", "Machine Settings"))


def combo_choice(combo):
    """The item a combo box shows."""
    selected = Atspi.Selection.get_selected_child(combo, 0)
    return selected.get_name() if selected else None


def disk_rows(dialog):
    """The editor's drive rows as (path, bus, kind, read-only, read-only can change)."""
    rows = []
    while find(dialog, "text", "Disk %d" % (len(rows) + 1), visible=False):
        name = "Disk %d" % (len(rows) + 1)
        read_only = find(dialog, "check box", name + " read-only", visible=False)
        rows.append((text_of(find(dialog, "text", name, visible=False)),
                     combo_choice(find(dialog, "combo box", name + " bus", visible=False)),
                     combo_choice(find(dialog, "combo box", name + " kind", visible=False)),
                     read_only.get_state_set().contains(Atspi.StateType.CHECKED), sensitive(read_only)))
    return rows


def all_label_texts(node):
    """The labels' texts, also of those scrolled out of view (a hidden
    message line has none)."""
    return [text_of(n) for n in find_all(node, "label", visible=False)]


def new_disk(app, editor_dialog, folder):
    """New Disk… makes a sparse image in the machine folder and adds its
    row; a name in use is refused in the dialog, the file left as it was."""
    click(find(editor_dialog, "push button", "New Disk…", visible=False))
    dialog = wait_for("the New Disk dialog", lambda: find(app.root, "dialog", "New Disk"))
    name = find(dialog, "text", "File name")
    if text_of(name) != "disk.img":
        fail("New Disk suggests %r, not disk.img" % text_of(name))
    taken = os.path.join(folder, "taken.img")
    with open(taken, "w") as f:
        f.write("keep me")
    set_text(name, "taken.img")
    set_value(find(dialog, "spin button", "Size (GiB)"), 2)
    click(find(dialog, "push button", "Create"))
    wait_for("the reason the image cannot be made",
             lambda: "cannot create disk image %s: File exists" % taken in label_texts(dialog))
    if open(taken).read() != "keep me" or not find(app.root, "dialog", "New Disk"):
        fail("New Disk overwrote %s or closed" % taken)
    set_text(name, "disk.img")
    click(find(dialog, "push button", "Create"))
    wait_for("the New Disk dialog to close", lambda: not find(app.root, "dialog", "New Disk"))
    wait_for("the new image's row", lambda: len(disk_rows(editor_dialog)) == 4)
    if disk_rows(editor_dialog)[3] != (os.path.join(folder, "disk.img"), "VirtIO", "Disk", False, True):
        fail("the new image's row is %r" % (disk_rows(editor_dialog)[3],))
    # a CD-ROM is read-only; made a disk again, it is as it was
    for kind, expected in (("CD-ROM", (True, False)), ("Disk", (False, True))):
        choose(find(editor_dialog, "combo box", "Disk 4 kind", visible=False), kind)
        choose(find(editor_dialog, "combo box", "Disk 4 bus", visible=False), "SATA" if kind == "CD-ROM" else "VirtIO")
        if disk_rows(editor_dialog)[3][3:] != expected:
            fail("as a %s, the new image's read-only box is (checked, can change) %r" %
                 (kind, disk_rows(editor_dialog)[3][3:]))
    image = os.stat(os.path.join(folder, "disk.img"))
    if image.st_size != 2 << 30 or image.st_blocks * 512 > 1 << 20:
        fail("disk.img is %d bytes, %d allocated: not a sparse 2 GiB image" % (image.st_size, image.st_blocks * 512))


def edit_disks(app, dialog, ini):
    """The disk list: remove a drive (the next takes its number), add a
    CD-ROM and type its path, change a bus; a row that cannot work (no path, a CD-ROM on
    VirtIO, an option kept from machine.ini that the new bus refuses) says
    why under itself and Save cannot write; New Disk… (new_disk); the rest
    is saved exactly, serial= and queues= kept."""
    folder = os.path.dirname(ini)
    save = find(dialog, "push button", "Save")
    click(find(dialog, "push button", "Remove disk 2", visible=False))
    wait_for("the CD-ROM's row to go", lambda: len(disk_rows(dialog)) == 2)
    if disk_rows(dialog)[1][0] != os.path.join(folder, "data.img"):
        fail("after removing disk 2 the rows are %r" % disk_rows(dialog))
    choose(find(dialog, "combo box", "Disk 2 bus", visible=False), "SATA")
    click(find(dialog, "push button", "Add CD-ROM", visible=False))
    wait_for("the new CD-ROM's row", lambda: len(disk_rows(dialog)) == 3)
    if disk_rows(dialog)[2] != ("", "IDE", "CD-ROM", True, False):
        fail("a new CD-ROM's row is %r" % (disk_rows(dialog)[2],))
    for what, message in (
            ("no path", "Type the path of the drive’s image file, or choose it with the folder icon."),
            ("a CD-ROM on VirtIO", "A CD-ROM needs IDE or SATA."),
            ("queues= on IDE", "disk '%s,serial=ROOT01,queues=2,bus=ide' is not valid: "
                               "queues= is for virtio disks only" % os.path.join(folder, "root.img"))):
        if what == "a CD-ROM on VirtIO":
            # typed: Add CD-ROM left the keyboard in the new row's path
            subprocess.run(["xdotool", "type", "/srv/other.iso"], check=True)
            wait_for("the typed path", lambda: disk_rows(dialog)[2][0] == "/srv/other.iso")
            choose(find(dialog, "combo box", "Disk 3 bus", visible=False), "VirtIO")
        if what == "queues= on IDE":
            choose(find(dialog, "combo box", "Disk 3 bus", visible=False), "IDE")
            choose(find(dialog, "combo box", "Disk 1 bus", visible=False), "IDE")
        refused(app, dialog, ini, what, message)
    choose(find(dialog, "combo box", "Disk 1 bus", visible=False), "VirtIO")
    new_disk(app, dialog, folder)
    wait_for("Save to become possible", lambda: sensitive(save))
    if [t for t in all_label_texts(dialog) if "is not valid" in t or "CD-ROM needs" in t]:
        fail("a message stays once every row is right: %r" % all_label_texts(dialog))
    click(save)
    wait_for("the editor to close", lambda: not find(app.root, "dialog", "Machine Settings"))
    disks = read_ini(ini).get("devices/disks")
    if disks != "root.img,serial=ROOT01,queues=2;data.img,ro,bus=sata;/srv/other.iso,bus=ide,media=cdrom;disk.img":
        fail("after editing the disks, machine.ini has disks=%r" % disks)
    if not os.path.exists(os.path.join(folder, "disk.img")):
        fail("the saved machine's new disk.img went when the editor closed")


def new_disk_not_kept(app, ini):
    """An image New Disk… made goes when the editor is cancelled, and when
    its row is removed before saving; machine.ini stays as it was."""
    folder = os.path.dirname(ini)
    before = read_ini(ini)
    for how in ("Cancel", "Remove disk 5"):
        dialog = editor(app, "Ed", "shortcut")
        click(find(dialog, "push button", "New Disk…", visible=False))
        made = wait_for("the New Disk dialog", lambda: find(app.root, "dialog", "New Disk"))
        click(find(made, "push button", "Create"))
        image = os.path.join(folder, "disk-2.img")
        wait_for("the new image's row", lambda: len(disk_rows(dialog)) == 5)
        if not os.path.exists(image):
            fail("New Disk… did not make %s" % image)
        click(find(dialog, "push button", how, visible=False))
        if how != "Cancel":
            wait_for("its row to go", lambda: len(disk_rows(dialog)) == 4)
            click(find(dialog, "push button", "Save"))
        wait_for("the editor to close", lambda: not find(app.root, "dialog", "Machine Settings"))
        wait_for("%s to be removed after %s" % (image, how), lambda: not os.path.exists(image))
        if read_ini(ini) != before:
            fail("after %s machine.ini changed: %r" % (how, read_ini(ini)))


def checked(node):
    return node.get_state_set().contains(Atspi.StateType.CHECKED)


def shown(node):
    return node.get_state_set().contains(Atspi.StateType.VISIBLE)


def forward_rows(dialog):
    """The port forwards as (protocol, host address, host port, guest port)."""
    rows = []
    while find(dialog, "combo box", "Forward %d protocol" % (len(rows) + 1), visible=False):
        name = "Forward %d " % (len(rows) + 1)
        rows.append((combo_choice(find(dialog, "combo box", name + "protocol", visible=False)),) +
                    tuple(text_of(find(dialog, "text", name + part, visible=False))
                          for part in ("host address", "host port", "guest port")))
    return rows


def net_screen_shown(dialog):
    """The network (kind, MAC address, forwards) and screen (kind, VNC
    address, first free port, fixed port, password file) as the editor shows them."""
    return (combo_choice(find(dialog, "combo box", "Network", visible=False)),
            text_of(find(dialog, "text", "MAC address", visible=False)), forward_rows(dialog),
            combo_choice(find(dialog, "combo box", "Screen", visible=False)),
            text_of(find(dialog, "text", "VNC address", visible=False)),
            checked(find(dialog, "check box", "First free port", visible=False)),
            Atspi.Value.get_current_value(find(dialog, "spin button", "VNC port", visible=False)),
            text_of(find(dialog, "text", "VNC password file", visible=False)))


def refused(app, dialog, ini, what, message):
    """`message` shows under the field and Save cannot write machine.ini."""
    save = find(dialog, "push button", "Save")
    before = open(ini).read()
    wait_for("the message about %s" % what, lambda: message in all_label_texts(dialog))
    if sensitive(save):
        fail("Save is possible with %s" % what)
    click(save)
    if open(ini).read() != before or not find(app.root, "dialog", "Machine Settings"):
        fail("Save wrote machine.ini or closed the editor with %s" % what)


def edit_net_screen(app, dialog, ini):
    """The network's and screen's widgets: VNC on the first free port, then
    on every network (refused without a password file until insecure is
    chosen, then a warning until there is a password file); a port
    forward added, made UDP, the first removed; a bad MAC address, port or
    VNC address says so under itself and Save cannot write; New makes a
    MAC address; host-loopback= is kept; the specs are saved exactly."""
    save = find(dialog, "push button", "Save")
    first_free = find(dialog, "check box", "First free port", visible=False)
    click(first_free)
    wait_for("the first free port to be chosen", lambda: checked(first_free))
    if sensitive(find(dialog, "spin button", "VNC port", visible=False)):
        fail("the fixed port can still be set with the first free port chosen")
    click(find(dialog, "push button", "Add Port Forward", visible=False))
    wait_for("the new forward's row", lambda: len(forward_rows(dialog)) == 2)
    if forward_rows(dialog)[1] != ("TCP", "127.0.0.1", "", ""):
        fail("a new forward's row is %r" % (forward_rows(dialog)[1],))
    refused(app, dialog, ini, "a forward without ports", "The host port must be a number from 1 to 65535.")
    set_text(find(dialog, "text", "Forward 2 host port", visible=False), "8080")
    set_text(find(dialog, "text", "Forward 2 guest port", visible=False), "70000")
    refused(app, dialog, ini, "guest port 70000", "The guest port must be a number from 1 to 65535.")
    # no network: the forwards, hidden, hold no one up; they are back with user networking
    network = find(dialog, "combo box", "Network", visible=False)
    choose(network, "None")
    wait_for("Save to become possible without a network", lambda: sensitive(save))
    choose(network, "User networking (NAT)")
    refused(app, dialog, ini, "guest port 70000 again", "The guest port must be a number from 1 to 65535.")
    set_text(find(dialog, "text", "Forward 2 guest port", visible=False), "80")
    choose(find(dialog, "combo box", "Forward 2 protocol", visible=False), "UDP")
    click(find(dialog, "push button", "Remove forward 1", visible=False))
    wait_for("the first forward to go", lambda: forward_rows(dialog) == [("UDP", "127.0.0.1", "8080", "80")])
    mac = find(dialog, "text", "MAC address", visible=False)
    set_text(mac, "01:54:00:12:34:56")
    refused(app, dialog, ini, "a multicast MAC address",
            "“01:54:00:12:34:56” is not a MAC address such as 52:54:00:12:34:56 (a unicast one).")
    click(find(dialog, "push button", "New MAC address", visible=False))
    wait_for("a new MAC address", lambda: re.fullmatch("52:54:00(:[0-9a-f]{2}){3}", text_of(mac)))
    choose(network, "Host TAP interface")
    refused(app, dialog, ini, "a TAP without its name", "Type the name of the host’s TAP interface, such as tap0.")
    # (VISIBLE, not SHOWING: the field may be scrolled out of view)
    wait_for("a TAP's interface name", lambda: shown(find(dialog, "text", "TAP interface", visible=False)))
    choose(network, "User networking (NAT)")
    wait_for("the TAP's interface name to go", lambda: not shown(find(dialog, "text", "TAP interface", visible=False)))
    if forward_rows(dialog) != [("UDP", "127.0.0.1", "8080", "80")]:
        fail("back on user networking the forwards are %r" % forward_rows(dialog))
    address = find(dialog, "text", "VNC address", visible=False)
    set_text(address, "10.0.0")
    refused(app, dialog, ini, "a VNC address that is not one",
            "“10.0.0” is not an IPv4 address such as 127.0.0.1 (this computer only) or 0.0.0.0 (every network).")
    set_text(address, "0.0.0.0")
    refused(app, dialog, ini, "VNC on every network without a password",
            "Other computers can reach this address: give a password file, or choose "
            "“Without a password (insecure)” to let anyone there see and control the machine.")
    insecure = find(dialog, "check box", "Without a password (insecure)", visible=False)
    click(insecure)
    warning = ("Other computers can reach this address: anyone there can see and control the machine, "
               "without a password.")
    wait_for("the warning about VNC without a password", lambda: warning in all_label_texts(dialog))
    wait_for("Save to become possible with only a warning", lambda: sensitive(save))
    password = os.path.join(app.tmp, "vnc-password")
    with open(password, "w") as f:
        f.write("secret\n")
    set_text(find(dialog, "text", "VNC password file", visible=False), password)
    wait_for("the warning to go with a password", lambda: warning not in all_label_texts(dialog))
    click(insecure)
    wait_for("insecure to be unchosen", lambda: not checked(insecure))
    wait_for("Save to stay possible", lambda: sensitive(save))
    new_mac = text_of(mac)
    click(save)
    wait_for("the editor to close", lambda: not find(app.root, "dialog", "Machine Settings"))
    got = read_ini(ini)
    got = (got.get("devices/net"), got.get("display/display"))
    if got != ("user,mac=%s,host-loopback=on,hostfwd=udp:127.0.0.1:8080-:80" % new_mac,
               "vnc=0.0.0.0,password-file=%s" % password):
        fail("after editing the network and screen, machine.ini has net, display %r" % (got,))


def case_edit_machine(app):
    """The editor shows every setting and saves machine.ini (atomically,
    through the library) with only what was changed; it refuses a name in
    use and says so under the name, and says why a save failed. Its disk
    list shows a row per drive and edits them one by one (edit_disks)."""
    ini = write_machine(app, "Ed", "[machine]\nname=Ed\nmemory=256M\ncpus=1\n[boot]\nkernel=/boot/vmlinuz\n"
                        "[devices]\nserial=none\nnet=user,host-loopback=on,hostfwd=tcp:127.0.0.1:2222-:22\n"
                        "disks=root.img,serial=ROOT01,queues=2;/srv/install.iso,bus=sata,media=cdrom;data.img,ro\n"
                        "[display]\ndisplay=vnc=127.0.0.1:5907\n")
    write_machine(app, "Other", "[machine]\nname=Other\n[boot]\nkernel=/boot/vmlinuz\n")
    before = read_ini(ini)
    app.start()
    wait_for("the machines", lambda: row(app, "Ed") and row(app, "Other"))
    dialog = editor(app, "Ed", "shortcut")
    for role, label in (("text", "Name"), ("spin button", "Memory (MiB)"), ("spin button", "Processors"),
                        ("text", "CPU model"), ("check box", "End when the guest restarts"),
                        ("text", "Linux kernel"), ("text", "Initial ramdisk"), ("text", "Kernel command line"),
                        ("combo box", "Firmware"), ("text", "Firmware log file"),
                        ("check box", "Boot menu (press Esc at start)"), ("spin button", "Boot menu wait (seconds)"),
                        ("text", "Boot order"), ("text", "Serial port"),
                        ("text", "Disk 1"), ("push button", "Add Disk"), ("push button", "Add CD-ROM"),
                        ("text", "CD-ROM"), ("check box", "Random number generator"),
                        ("combo box", "Network"), ("combo box", "Screen"), ("combo box", "Graphics")):
        if not find(dialog, role, label, visible=False):
            fail("the editor has no %s %r" % (role, label))
    memory = find(dialog, "spin button", "Memory (MiB)")
    if Atspi.Value.get_current_value(memory) != 256:
        fail("the editor shows %d MiB, not 256" % Atspi.Value.get_current_value(memory))
    folder = os.path.dirname(ini)
    if disk_rows(dialog) != [(os.path.join(folder, "root.img"), "VirtIO", "Disk", False, True),
                             ("/srv/install.iso", "SATA", "CD-ROM", True, False),
                             (os.path.join(folder, "data.img"), "VirtIO", "Disk", True, True)]:
        fail("the editor shows the disks as %r" % disk_rows(dialog))
    if net_screen_shown(dialog) != ("User networking (NAT)", "", [("TCP", "127.0.0.1", "2222", "22")],
                                    "VNC server", "127.0.0.1", False, 5907, ""):
        fail("the editor shows the network and screen as %r" % (net_screen_shown(dialog),))
    save = find(dialog, "push button", "Save")
    set_text(find(dialog, "text", "Name"), "other")
    wait_for("the name-taken message", lambda: "A machine called “other” already exists." in label_texts(dialog))
    if sensitive(save):
        fail("Save is possible with a name in use")
    set_text(find(dialog, "text", "Name"), "Ed")
    set_value(memory, 512)
    wait_for("Save to become possible", lambda: sensitive(save))
    click(save)
    wait_for("the editor to close", lambda: not find(app.root, "dialog", "Machine Settings"))
    after = read_ini(ini)
    before["machine/memory"] = "512M"
    before.setdefault("machine/schema", "1")
    for key in set(before) | set(after):
        if key in before and after.get(key) != before[key]:
            fail("after editing the memory, machine.ini has %s=%r, not %r" % (key, after.get(key), before[key]))
    wait_for("the row to show the new memory", lambda: "512 MiB · 1 processor" in label_texts(row(app, "Ed")))
    if [f for f in os.listdir(os.path.dirname(ini)) if f.startswith(".")]:
        fail("a temporary file was left in the machine folder")
    edit_disks(app, editor(app, "Ed", "shortcut"), ini)
    new_disk_not_kept(app, ini)
    edit_net_screen(app, editor(app, "Ed", "shortcut"), ini)

    # A save that fails says why in the editor, which stays open: here
    # machine.ini became a folder, which a file cannot replace.
    dialog = editor(app, "Ed", "shortcut")
    os.rename(ini, ini + ".saved")
    os.makedirs(os.path.join(ini, "in-the-way"))
    set_value(find(dialog, "spin button", "Memory (MiB)"), 768)
    click(find(dialog, "push button", "Save"))
    wait_for("the failed save's reason in the editor",
             lambda: any(t.startswith("cannot save %s: cannot replace the file: " % ini) for t in label_texts(dialog)))
    if not find(app.root, "dialog", "Machine Settings"):
        fail("the editor closed although nothing was saved")
    if [f for f in os.listdir(os.path.dirname(ini)) if f.startswith(".")]:
        fail("a failed save left a temporary file in the machine folder")


def case_edit_running(app):
    """A running machine (the demo guest on KVM) can be edited from the menu:
    the change is saved, the editor says it applies at the next start and
    the machine's row says so too while it runs."""
    write_demo_machine(app)
    ini = os.path.join(app.machines, "Demo", "machine.ini")
    app.start()
    click(find(wait_for("the machine", lambda: row(app, "Demo")), "push button", "Start"))
    wait_for("the machine to run", lambda: "Running" in label_texts(row(app, "Demo")))
    engines = wait_for("its engine", lambda: engine_pids(app))
    try:
        dialog = editor(app, "Demo", "menu")
        wait_for("the applies-at-next-start notice",
                 lambda: "This machine is running: changes apply at its next start." in label_texts(dialog))
        set_value(find(dialog, "spin button", "Memory (MiB)"), 96)
        click(find(dialog, "push button", "Save"))
        wait_for("the editor to close", lambda: not find(app.root, "dialog", "Machine Settings"))
        if read_ini(ini).get("machine/memory") != "96M":
            fail("the running machine's memory was not saved: %r" % read_ini(ini).get("machine/memory"))
        wait_for("the row's mark that the changes wait for the next start",
                 lambda: "Running · changes apply at next start" in label_texts(row(app, "Demo")))
        if not all(alive(p) for p in engines):
            fail("saving the settings disturbed the running machine")
        click(find(row(app, "Demo"), "push button", "Stop"))
        wait_for("the machine to stop", lambda: "Stopped" in label_texts(row(app, "Demo")), timeout=20)
    finally:
        kill_engines(engines)


def case_settings(app):
    """The GSettings keys: new machines get the default screen and VNC
    address, and live in the machine folder chosen there. An installer ISO
    goes on the CD-ROM, after a new sparse disk image."""
    folder = os.path.join(app.tmp, "elsewhere")
    settings = os.path.join(app.env["XDG_CONFIG_HOME"], "glib-2.0", "settings")
    os.makedirs(settings)
    with open(os.path.join(settings, "keyfile"), "w") as f:
        f.write("[io/github/vireo/Vireo]\ndefault-display='vnc'\nvnc-listen='127.0.0.1:5905'\n"
                "machine-folder='%s'\n" % folder)
    app.env["GSETTINGS_BACKEND"] = "keyfile"
    iso = os.path.join(app.tmp, "debian-12.5.0-amd64-netinst.iso")
    open(iso, "wb").close()
    app.start()
    dialog = assistant(app)
    set_text(find(dialog, "text", "File"), iso)
    name = find(dialog, "text", "Name")
    wait_for("the name from the ISO", lambda: text_of(name) == "debian-12.5.0-amd64-netinst")
    set_value(find(dialog, "spin button", "Memory (MiB)"), 1024)
    set_value(find(dialog, "spin button", "Processors"), 1)
    set_value(find(dialog, "spin button", "Disk (GiB)"), 8)
    create_in(app, dialog, "debian-12.5.0-amd64-netinst")
    machine = os.path.join(folder, "debian-12.5.0-amd64-netinst")
    got = read_ini(os.path.join(machine, "machine.ini"))
    got = (got.get("devices/disks"), got.get("devices/cdrom"), got.get("display/display"),
           got.get("machine/memory"), "boot/kernel" in got)
    if got != ("disk.img", iso, "vnc=127.0.0.1:5905", "1G", False):
        fail("the machine in the configured folder has disks, cdrom, display, memory, kernel %r" % (got,))
    disk = os.stat(os.path.join(machine, "disk.img"))
    if disk.st_size != 8 << 30 or disk.st_blocks * 512 > 1 << 20:
        fail("disk.img is %d bytes, %d allocated: not a sparse 8 GiB image" % (disk.st_size, disk.st_blocks * 512))
    if os.path.exists(app.machines):
        fail("the default machine folder was used although another is configured")


def case_broken_machine(app):
    write_machine(app, "corrupt", "\x7fELF this is no machine file\n")
    write_machine(app, "Fine", "[machine]\nname=Fine\nmemory=1G\ncpus=2\n[boot]\nkernel=/boot/vmlinuz\n")
    app.start()
    item = wait_for("the corrupt machine in the list", lambda: row(app, "corrupt"))
    texts = label_texts(item)
    if "Broken" not in texts:
        fail("the corrupt machine is not marked broken: %r" % texts)
    reason = [t for t in texts if t.startswith("machine.ini:1: ")]
    if not reason or "expected a [group]" not in reason[0]:
        fail("the broken machine's reason is missing: %r" % texts)
    if not row(app, "Fine"):
        fail("the good machine beside the broken one is missing")
    # One that breaks while the app runs shows up too (the library is watched).
    write_machine(app, "later", "[machine]\nmemory=lots\n")
    item = wait_for("the machine added while running", lambda: row(app, "later"))
    expected = "machine.ini:2: memory 'lots' is not valid: expected a size such as 512M or 4G"
    wait_for("its reason", lambda: expected in label_texts(row(app, "later")))


def case_broken_machine_zh_CN(app):
    """Under Chinese, the reason a machine is broken (a message of the machine
    library the engine shares) is in Chinese like the rest of the window."""
    app.env["LANGUAGE"] = "zh_CN"
    write_machine(app, "later", "[machine]\nmemory=lots\n")
    app.start()
    item = wait_for("the broken machine in the list", lambda: row(app, "later"))
    expected = "machine.ini:2：memory“lots”无效，应为：大小，例如 512M 或 4G"
    wait_for("its reason in Chinese (the row shows %r)" % label_texts(item),
             lambda: expected in label_texts(row(app, "later")) and "已损坏" in label_texts(row(app, "later")))


def case_engine_error(app):
    ini = write_machine(app, "No Kernel", "[machine]\nname=No Kernel\nmemory=64M\n[boot]\n"
                        "kernel=/nonexistent/vmlinuz\n[devices]\nserial=none\n")
    engine = subprocess.run([ENGINE, ini], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, timeout=30)
    if engine.returncode == 0 or not engine.stderr.strip():
        fail("the engine was expected to fail on a missing kernel")
    line = engine.stderr.strip().splitlines()[-1]
    app.start()
    item = wait_for("the machine", lambda: row(app, "No Kernel"))
    click(find(item, "push button", "Start"))
    message = "“No Kernel” stopped with an error: " + line
    wait_for("the engine's error in the window",
             lambda: message in label_texts(find(app.window, "info bar")), timeout=30)
    wait_for("the machine to show as stopped", lambda: "Stopped" in label_texts(row(app, "No Kernel")))


def write_demo_machine(app):
    """Machine "Demo": our demo guest on KVM, no screen; skips without KVM."""
    vt.require_kvm()
    guest_dir = os.environ.get("VIREO_GUEST_DIR", os.path.join(SOURCE_DIR, "build", "tests", "guest"))
    guest = os.path.join(guest_dir, "demo.elf")
    write_machine(app, "Demo", "[machine]\nname=Demo\nmemory=64M\n[boot]\nkernel=%s\n"
                  "[devices]\nserial=none\n[display]\ndisplay=none\n" % guest)
    return guest


def case_start_stop(app):
    """A machine that really runs (our demo guest on KVM) shows as running
    while its engine lives, and Stop ends it cleanly, with no error (through
    the power button on the control socket when the engine has one)."""
    write_demo_machine(app)
    app.start()
    item = wait_for("the machine", lambda: row(app, "Demo"))
    click(find(item, "push button", "Start"))
    wait_for("the machine to run", lambda: "Running" in label_texts(row(app, "Demo")))
    engines = wait_for("its engine process", lambda: engine_pids(app))
    socket = os.path.join(app.env["XDG_RUNTIME_DIR"], "vireo", "Demo.sock")
    if not os.path.exists(socket):
        fail("no control socket at " + socket)
    time.sleep(1)
    if not engine_pids(app) or "Running" not in label_texts(row(app, "Demo")):
        fail("the engine did not keep running: %r" % label_texts(find(app.window, "info bar")))
    click(find(row(app, "Demo"), "push button", "Stop"))
    wait_for("the machine to stop", lambda: "Stopped" in label_texts(row(app, "Demo")), timeout=20)
    for pid in engines:
        if alive(pid):
            fail("engine %d still runs after Stop" % pid)
    bar = find(app.window, "info bar")
    errors = [t for t in label_texts(bar) if t] if bar else []
    if errors:
        fail("a clean stop showed an error: %r" % errors)


def case_control_socket(app):
    """The app follows an engine's State over its control socket and stops it
    with the power button, against a stand-in that serves Engine1.xml."""
    app.env["VIREO_ENGINE"] = os.path.join(HERE, "fake-engine.py")
    app.env["VIREO_SOURCE_DIR"] = SOURCE_DIR
    ini = write_machine(app, "Ctl", "[machine]\nname=Controlled\n[boot]\nkernel=/boot/vmlinuz\n")
    app.start()
    click(find(wait_for("the machine", lambda: row(app, "Controlled")), "push button", "Start"))
    wait_for("Running from the engine's State", lambda: "Running" in label_texts(row(app, "Controlled")))
    socket = os.path.join(app.env["XDG_RUNTIME_DIR"], "vireo", "Ctl.sock")
    if not os.path.exists(socket):
        fail("no control socket at " + socket)
    engines = wait_for("the engine process", lambda: engine_pids(app))
    os.kill(engines[0], signal.SIGUSR1)   # the stand-in pauses
    wait_for("Paused after PropertiesChanged", lambda: "Paused" in label_texts(row(app, "Controlled")))
    click(find(row(app, "Controlled"), "push button", "Stop"))
    wait_for("the machine to stop", lambda: "Stopped" in label_texts(row(app, "Controlled")), timeout=20)
    with open(os.path.join(os.path.dirname(ini), "fake-engine.log")) as f:
        calls = f.read().split()
    if calls != ["PowerButton"]:
        fail("the engine got %r, not one PowerButton call" % calls)
    bar = find(app.window, "info bar")
    if bar and any(label_texts(bar)):
        fail("a clean stop showed an error: %r" % label_texts(bar))


def case_pause_force_off(app):
    """Pause and Resume through the control socket, the state coming back
    from the engine; Force Off from the main menu ends it, with no error."""
    write_demo_machine(app)
    app.start()
    click(find(wait_for("the machine", lambda: row(app, "Demo")), "push button", "Start"))
    wait_for("the machine to run", lambda: "Running" in label_texts(row(app, "Demo")))
    engines = wait_for("its engine", lambda: engine_pids(app))
    click(wait_for("the Pause button", lambda: find(row(app, "Demo"), "push button", "Pause")))
    wait_for("Paused", lambda: "Paused" in label_texts(row(app, "Demo")))
    click(wait_for("the Resume button", lambda: find(row(app, "Demo"), "push button", "Resume")))
    wait_for("Running again", lambda: "Running" in label_texts(row(app, "Demo")))
    select_row(app, "Demo")
    click(find(app.window, "toggle button", "Main menu"))
    click(wait_for("Force Off in the menu", lambda: find(app.window, "push button", "Force Off")))
    wait_for("the machine to be off", lambda: "Stopped" in label_texts(row(app, "Demo")), timeout=20)
    wait_for("its engine to end", lambda: not any(alive(p) for p in engines))
    bar = find(app.window, "info bar")
    if bar and any(label_texts(bar)):
        fail("forcing off showed an error: %r" % label_texts(bar))
    if find(row(app, "Demo"), "push button", "Pause"):
        fail("a stopped machine offers Pause")


def case_reattach(app):
    """Closing the app leaves a running machine running; the app opened
    again finds it through its control socket and can stop it."""
    guest = write_demo_machine(app)
    # A stale socket of a machine that crashed long ago is cleared, not followed.
    stale = os.path.join(app.env["XDG_RUNTIME_DIR"], "vireo", "Gone.sock")
    os.makedirs(os.path.dirname(stale))
    write_machine(app, "Gone", "[machine]\nname=Gone\n[boot]\nkernel=%s\n" % guest)
    listener = socketlib.socket(socketlib.AF_UNIX)
    listener.bind(stale)
    listener.close()
    app.start()
    click(find(wait_for("the machine", lambda: row(app, "Demo")), "push button", "Start"))
    wait_for("the machine to run", lambda: "Running" in label_texts(row(app, "Demo")))
    engines = wait_for("its engine", lambda: engine_pids(app))
    wait_for("the stale socket to go", lambda: not os.path.exists(stale))
    if "Stopped" not in label_texts(row(app, "Gone")):
        fail("a stale socket made %r" % label_texts(row(app, "Gone")))
    try:
        app.process.terminate()
        app.process.wait(timeout=10)
        time.sleep(0.5)
        for pid in engines:
            if not alive(pid):
                fail("closing the app ended engine %d" % pid)
        app.start()
        wait_for("the machine to show as running again", lambda: "Running" in label_texts(row(app, "Demo")))
        click(find(row(app, "Demo"), "push button", "Stop"))
        wait_for("the machine to stop", lambda: "Stopped" in label_texts(row(app, "Demo")), timeout=20)
        wait_for("the engine to end", lambda: not any(alive(p) for p in engines))
    finally:
        kill_engines(engines)


def kill_engines(pids):
    """Ends engines a failed case left running."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def alive(pid):
    """Running, not ended (a zombie waiting for a parent that is gone counts as ended)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def engine_pids(app):
    """The engines started by the app (children in their own session)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if int(fields[1]) == app.process.pid and (argv[0].endswith(b"vireo-engine") or
                                                  argv[1:2] == [os.path.join(HERE, "fake-engine.py").encode()]):
            pids.append(int(entry))
    return pids


def press(keys):
    """Types keys ("ctrl+n", "Delete") through XTest, as a keyboard would."""
    subprocess.run(["xdotool", "key", keys], check=True)


def select_row(app, name):
    machines = find(app.window, "list box")
    rows = find_all(machines, "list item")
    names = [r.get_name() for r in rows]
    if name not in names:
        fail("no row %r among %r" % (name, names))
    Atspi.Selection.select_child(machines, names.index(name))
    Atspi.Component.grab_focus(rows[names.index(name)])


def case_shortcuts(app):
    iso = os.path.join(app.tmp, "install.iso")
    open(iso, "wb").close()
    folder = os.path.dirname(write_machine(app, "Old", "[machine]\nname=Old\n[devices]\ndisks=root.img;%s,ro\n" % iso))
    with open(os.path.join(folder, "root.img"), "wb") as f:
        f.truncate(1 << 20)
    write_machine(app, "No Kernel", "[machine]\nname=No Kernel\n[boot]\nkernel=/nonexistent/vmlinuz\n"
                  "[devices]\nserial=none\n")
    app.start()
    wait_for("the machines", lambda: row(app, "Old") and row(app, "No Kernel"))

    # Ctrl+N opens the New dialog; Escape closes it.
    select_row(app, "Old")
    press("ctrl+n")
    wait_for("Ctrl+N to open the New Machine dialog", lambda: find(app.root, "dialog", "New Machine"))
    press("Escape")
    wait_for("Escape to close it", lambda: not find(app.root, "dialog", "New Machine"))

    # Enter starts the selected machine (and its failure shows).
    select_row(app, "No Kernel")
    press("Return")
    wait_for("Enter to start the machine",
             lambda: any(t.startswith("“No Kernel” stopped with an error: ")
                         for t in label_texts(find(app.window, "info bar"))), timeout=30)

    # Typing starts a search that keeps the matching rows; Escape ends it.
    select_row(app, "Old")
    press("k")
    search = wait_for("the search entry", lambda: find(app.window, "text", "Search machines"))
    press("e")
    wait_for("only the matching row", lambda: row(app, "No Kernel") and not row(app, "Old"))
    if text_of(search) != "ke":
        fail("the search holds %r, not what was typed" % text_of(search))
    press("Escape")
    wait_for("every row back", lambda: row(app, "Old") and row(app, "No Kernel"))
    press("ctrl+f")
    wait_for("Ctrl+F to open the search", lambda: find(app.window, "text", "Search machines"))
    press("Escape")

    # Delete asks first, keeps disk images by default, never touches the ISO.
    select_row(app, "Old")
    press("Delete")
    alert = wait_for("the delete confirmation", lambda: find(app.root, "alert", None))
    if "Delete “Old”?" not in label_texts(alert):
        fail("the confirmation says %r" % label_texts(alert))
    keep = find(alert, "check box", "Keep its disk images")
    if not keep or not keep.get_state_set().contains(Atspi.StateType.CHECKED):
        fail("keeping the disk images is not the default")
    if not os.path.isdir(folder):
        fail("the machine was deleted before the confirmation")
    click(find(alert, "push button", "Delete"))
    wait_for("the machine folder to go", lambda: not os.path.exists(folder))
    wait_for("its row to go", lambda: not row(app, "Old"))
    kept = os.path.join(app.data, "vireo", "kept-disks", "Old-root.img")
    if not os.path.isfile(kept) or os.path.getsize(kept) != 1 << 20:
        fail("the disk image was not kept at " + kept)
    if not os.path.isfile(iso):
        fail("the ISO outside the machine folder was deleted")

    # A machine with no disk image of its own is not offered to keep one.
    select_row(app, "No Kernel")
    press("Delete")
    alert = wait_for("the delete confirmation", lambda: find(app.root, "alert", None))
    if find(alert, "check box", None):
        fail("a machine without disk images is offered to keep them")
    click(find(alert, "push button", "Delete"))
    wait_for("its row to go", lambda: not row(app, "No Kernel"))


def case_long_library(app):
    """A library longer than the window: every row, in name order, with the
    first selected; the search reaches the last."""
    for i in range(30):
        write_machine(app, "m%02d" % i, "[machine]\nname=Machine %02d\n[boot]\nkernel=/boot/vmlinuz\n" % i)
    app.start()
    machines = wait_for("the list", lambda: find(app.window, "list box"))
    wait_for("the last machine", lambda: find(machines, "list item", "Machine 29", visible=False))
    names = [r.get_name() for r in find_all(machines, "list item", visible=False)]
    if names != ["Machine %02d" % i for i in range(30)]:
        fail("the list holds %r" % names)
    selected = [r.get_name() for r in find_all(machines, "list item", visible=False)
                if r.get_state_set().contains(Atspi.StateType.SELECTED)]
    if selected != ["Machine 00"]:
        fail("the selected rows are %r, not the first" % selected)
    press("ctrl+f")
    set_text(wait_for("the search entry", lambda: find(app.window, "text", "Search machines")), "29")
    wait_for("only the last machine", lambda: [r.get_name() for r in find_all(machines, "list item")] ==
             ["Machine 29"])


def case_library_changes(app):
    """Machines added, renamed and removed behind the app's back: the list
    follows, in name order, and a row whose machine did not change stays the
    same row, keeping its selection (a reload used to rebuild every row,
    pulling them from under the keyboard focus and assistive tools)."""
    write_machine(app, "a", "[machine]\nname=Alpha\n[boot]\nkernel=/boot/vmlinuz\n")
    write_machine(app, "c", "[machine]\nname=Charlie\n[boot]\nkernel=/boot/vmlinuz\n")
    app.start()
    wait_for("the machines", lambda: row(app, "Alpha") and row(app, "Charlie"))
    select_row(app, "Charlie")
    charlie = row(app, "Charlie")

    def names():
        return [r.get_name() for r in find_all(find(app.window, "list box"), "list item")]

    def still_selected(what):
        try:
            if charlie.get_name() == "Charlie" and charlie.get_state_set().contains(Atspi.StateType.SELECTED):
                return
        except GLib.Error as e:
            fail("the Charlie row was replaced when %s: %s" % (what, e.message))
        fail("the Charlie row lost its selection when %s" % what)

    write_machine(app, "b", "[machine]\nname=Bravo\n[boot]\nkernel=/boot/vmlinuz\n")
    wait_for("Bravo between them", lambda: names() == ["Alpha", "Bravo", "Charlie"])
    still_selected("a machine was added")
    write_machine(app, "a", "[machine]\nname=Delta\n[boot]\nkernel=/boot/vmlinuz\n")
    wait_for("Alpha renamed Delta, last", lambda: names() == ["Bravo", "Charlie", "Delta"])
    still_selected("another machine was renamed")
    shutil.rmtree(os.path.join(app.machines, "c"))
    wait_for("Charlie to go", lambda: names() == ["Bravo", "Delta"])
    selected = [r.get_name() for r in find_all(find(app.window, "list box"), "list item")
                if r.get_state_set().contains(Atspi.StateType.SELECTED)]
    if selected != ["Bravo"]:
        fail("with the selected machine gone, the selection is %r, not the first row" % selected)

    # A row says what the machine starts from: a CD is not called a disk.
    write_machine(app, "e", "[machine]\nname=Echo\n[devices]\ndisks=boot.iso,bus=sata,media=cdrom;disk.img\n")
    wait_for("Echo's row to name its CD", lambda: row(app, "Echo") and "CD boot.iso" in label_texts(row(app, "Echo")))


def open_menu(app):
    """Opens the main menu, once one still closing from the last use has
    gone (its items show until then, and a click then is lost)."""
    wait_for("the last menu to close", lambda: not find(app.window, "push button", "About Vireo"))

    def opened():
        if not find(app.window, "push button", "About Vireo"):
            click(find(app.window, "toggle button", "Main menu"))
            time.sleep(0.5)
        return find(app.window, "push button", "About Vireo")
    wait_for("the main menu", opened)


def menu_item(app, label):
    """Clicks `label` in the main menu."""
    open_menu(app)
    click(wait_for("%s in the menu" % label, lambda: find(app.window, "push button", label)))


def clipboard_text(app):
    """What the app put on the clipboard, read by another X client."""
    code = ("import gi; gi.require_version('Gtk', '3.0'); from gi.repository import Gtk, Gdk; "
            "print(Gtk.Clipboard.get(Gdk.SELECTION_CLIPBOARD).wait_for_text() or '', end='')")
    env = dict(app.env, NO_AT_BRIDGE="1")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30).stdout


def png_pixel(path, x, y):
    gi.require_version("GdkPixbuf", "2.0")
    from gi.repository import GdkPixbuf
    picture = GdkPixbuf.Pixbuf.new_from_file(path)
    pixels = picture.get_pixels()
    at = y * picture.get_rowstride() + x * picture.get_n_channels()
    return picture.get_width(), picture.get_height(), tuple(pixels[at:at + 3])


def case_lifecycle(app):
    """A machine's life in the window: it starts and its row shows the guest's
    screen (the thumbnail file is the guest's picture, pixel for pixel); Reset
    reboots it (its serial output starts again); Show opens its screen in the
    window (its VNC server is on loopback: the engine serves the app's
    private socket instead) and Back closes it; Force Off; Clone makes a new machine
    with a sparse copy of its disk; Delete without keeping disks removes it."""
    vt.require_kvm()
    from test_display import free_port, pattern32
    guest_dir = os.environ.get("VIREO_GUEST_DIR", os.path.join(SOURCE_DIR, "build", "tests", "guest"))
    port = free_port()
    folder = os.path.dirname(write_machine(
        app, "Lab", "[machine]\nname=Lab\nmemory=64M\n[boot]\nkernel=%s\n[devices]\nserial=file:serial.log\n"
        "disks=disk.img,serial=LAB0001\n[display]\ndisplay=vnc=127.0.0.1:%d\n" % (os.path.join(guest_dir, "vga.elf"), port)))
    disk = os.path.join(folder, "disk.img")
    with open(disk, "wb") as f:
        f.seek(3 << 20)
        f.write(b"the guest's data")
        f.truncate(256 << 20)
    serial = os.path.join(folder, "serial.log")
    app.start()
    click(find(wait_for("the machine", lambda: row(app, "Lab")), "push button", "Start"))
    wait_for("the machine to run", lambda: "Running" in label_texts(row(app, "Lab")), timeout=30)
    engines = wait_for("its engine", lambda: engine_pids(app))
    try:
        drawn = "vga: 1024x768x32 drawn"

        def boots():
            with open(serial) as f:
                return f.read().count(drawn)
        wait_for("the guest's picture", lambda: boots() == 1, timeout=60)

        # The thumbnail: the guest's screen in the machine folder, and in the row.
        # (One taken while the guest was still drawing is replaced a few seconds later.)
        thumbnail = os.path.join(folder, "thumbnail.png")
        points = ((0, 0), (100, 100), (700, 100), (100, 500), (1000, 700))
        wait_for("the thumbnail file", lambda: os.path.exists(thumbnail), timeout=20)
        wait_for("the guest's picture in the thumbnail file",
                 lambda: [png_pixel(thumbnail, x, y) for x, y in points] ==
                 [(1024, 768, pattern32(x, y)) for x, y in points], timeout=20)
        image = wait_for("the screen in the row", lambda: find(row(app, "Lab"), "icon", "Screen"), timeout=20)
        size = Atspi.Image.get_image_size(image)
        if (size.x, size.y) != (64, 48):
            fail("the row's thumbnail is %dx%d, not 64x48" % (size.x, size.y))

        # Reset: the guest boots again and draws again.
        select_row(app, "Lab")
        menu_item(app, "Reset")
        wait_for("the guest to boot again", lambda: boots() == 2, timeout=60)
        if "Running" not in label_texts(row(app, "Lab")) or engine_pids(app) != engines:
            fail("a reset ended the machine: %r" % label_texts(row(app, "Lab")))

        # Show: the screen page (app-screen-page checks its picture), and Back.
        click(find(row(app, "Lab"), "push button", "Show"))
        wait_for("the screen page", lambda: find(app.window, "drawing area", "Screen of “Lab”"))
        click(find(app.window, "push button", "Back"))
        wait_for("the list again", lambda: row(app, "Lab"))

        # Clone needs the machine stopped: the menu offers it only then.
        open_menu(app)
        clone = wait_for("Clone in the menu", lambda: find(app.window, "push button", "Clone Machine"))
        if clone.get_state_set().contains(Atspi.StateType.SENSITIVE):
            fail("Clone is offered for a running machine")
        press("Escape")
        menu_item(app, "Force Off")
        wait_for("the machine to be off", lambda: "Stopped" in label_texts(row(app, "Lab")), timeout=20)
        wait_for("its engine to end", lambda: not any(alive(p) for p in engines))
    finally:
        kill_engines(engines)
    if not find(row(app, "Lab"), "icon", "Screen"):
        fail("the stopped machine lost its thumbnail")
    open_menu(app)
    for label in ("Show", "Reset", "Force Off"):
        item = wait_for(label + " in the menu", lambda: find(app.window, "push button", label))
        if item.get_state_set().contains(Atspi.StateType.SENSITIVE):
            fail("%s is offered for a stopped machine" % label)
    press("Escape")

    select_row(app, "Lab")
    menu_item(app, "Clone Machine")
    wait_for("the clone in the list", lambda: row(app, "Lab 2"))
    clone = os.path.join(app.machines, "Lab 2")
    config = configparser.ConfigParser(interpolation=None)
    config.read(os.path.join(clone, "machine.ini"))
    disks = config.get("devices", "disks", fallback="")
    if config.get("display", "display", fallback=None) != "vnc=127.0.0.1":
        fail("the clone keeps the display %r: its VNC port would clash with the original's" %
             config.get("display", "display", fallback=None))
    if config.get("machine", "name", fallback=None) != "Lab 2" or not disks.startswith("disk.img,serial=") or \
            disks == "disk.img,serial=LAB0001":
        fail("the clone's machine.ini names %r with disks %r" % (config.get("machine", "name", fallback=None), disks))
    copy = os.path.join(clone, "disk.img")
    with open(disk, "rb") as a, open(copy, "rb") as b:
        if a.read() != b.read():
            fail("the clone's disk differs from the original")
    if os.stat(copy).st_blocks * 512 > 1 << 20:
        fail("the clone's 256 MiB disk has %d bytes allocated: not sparse" % (os.stat(copy).st_blocks * 512))
    if sorted(os.listdir(clone)) != ["disk.img", "machine.ini", "serial.log"]:
        fail("the clone's folder holds %r" % sorted(os.listdir(clone)))

    # Delete without keeping the disk: the folder goes, nothing is kept.
    select_row(app, "Lab 2")
    press("Delete")
    alert = wait_for("the delete confirmation", lambda: find(app.root, "alert", None))
    click(find(alert, "check box", "Keep its disk images"))
    click(find(alert, "push button", "Delete"))
    wait_for("the clone's folder to go", lambda: not os.path.exists(clone))
    wait_for("its row to go", lambda: not row(app, "Lab 2"))
    if os.path.exists(os.path.join(app.data, "vireo", "kept-disks")):
        fail("a disk was kept although keeping was unticked")
    if not os.path.isfile(disk):
        fail("deleting the clone touched the original's disk")


def png_rgb(path):
    """(width, height, packed RGB bytes) of a PNG."""
    gi.require_version("GdkPixbuf", "2.0")
    from gi.repository import GdkPixbuf
    picture = GdkPixbuf.Pixbuf.new_from_file(path)
    width, height, channels = picture.get_width(), picture.get_height(), picture.get_n_channels()
    pixels, stride = picture.get_pixels(), picture.get_rowstride()
    rgb = b"".join(bytes(pixels[y * stride + x * channels:y * stride + x * channels + 3])
                   for y in range(height) for x in range(width))
    return width, height, rgb


def case_installer_iso(app):
    """From an installer ISO to a running machine, all in the window: the
    assistant (Other preset) makes a machine whose CD-ROM holds our boot
    program's El Torito ISO; it starts, SeaBIOS boots the CD, and the row's
    thumbnail (the machine folder's thumbnail.png) shows the program's
    banner in text mode; Pause and Resume; memory edited while it runs
    (saved, for the next start); Force Off; Clone; Delete."""
    vt.require_kvm()
    import test_bootprog
    import test_display
    import test_firmware
    iso, _ = test_bootprog.cd_image(app.tmp, bytes(range(256)) * 256)
    app.start()
    dialog = assistant(app)
    set_text(find(dialog, "text", "File"), iso)
    wait_for("the name from the ISO", lambda: text_of(find(dialog, "text", "Name")) != "")
    set_text(find(dialog, "text", "Name"), "Installer")
    choose(find(dialog, "combo box", "Operating system"), "Other")
    set_value(find(dialog, "spin button", "Memory (MiB)"), 128)
    set_value(find(dialog, "spin button", "Disk (GiB)"), 1)
    create_in(app, dialog, "Installer")
    folder = os.path.join(app.machines, "Installer")
    ini = os.path.join(folder, "machine.ini")
    got = read_ini(ini)
    for key, value in (("devices/cdrom", iso), ("devices/disks", "disk.img,bus=ide"), ("boot/firmware", "bios"),
                       ("machine/memory", "128M"), ("display/gpu", "std")):
        if got.get(key) != value:
            fail("the new machine has %s=%r, not %r" % (key, got.get(key), value))

    click(find(row(app, "Installer"), "push button", "Start"))
    wait_for("the machine to run", lambda: "Running" in label_texts(row(app, "Installer")), timeout=30)
    engines = wait_for("its engine", lambda: engine_pids(app))
    try:
        shapes = test_firmware.vgabios_shapes()
        thumbnail = os.path.join(folder, "thumbnail.png")

        def banner_shown():
            if not os.path.exists(thumbnail):
                return False
            try:
                width, height, rgb = png_rgb(thumbnail)
            except GLib.Error:
                return False  # being replaced
            return (width, height) == (720, 400) and any(
                line.startswith("VIREO BOOT drive=e0 bps=2048")
                for line in test_display.read_text(rgb, width, height, shapes))
        wait_for("the boot program's banner in the thumbnail", banner_shown, timeout=90)
        wait_for("the screen in the row", lambda: find(row(app, "Installer"), "icon", "Screen"))

        click(wait_for("the Pause button", lambda: find(row(app, "Installer"), "push button", "Pause")))
        wait_for("Paused", lambda: "Paused" in label_texts(row(app, "Installer")))
        click(wait_for("the Resume button", lambda: find(row(app, "Installer"), "push button", "Resume")))
        wait_for("Running again", lambda: "Running" in label_texts(row(app, "Installer")))

        dialog = editor(app, "Installer", "shortcut")
        set_value(find(dialog, "spin button", "Memory (MiB)"), 192)
        click(find(dialog, "push button", "Save"))
        wait_for("the editor to close", lambda: not find(app.root, "dialog", "Machine Settings"))
        if read_ini(ini).get("machine/memory") != "192M":
            fail("the edited memory is %r in machine.ini" % read_ini(ini).get("machine/memory"))

        menu_item(app, "Force Off")
        wait_for("the machine to be off", lambda: "Stopped" in label_texts(row(app, "Installer")), timeout=20)
        wait_for("its engine to end", lambda: not any(alive(p) for p in engines))
    finally:
        kill_engines(engines)

    select_row(app, "Installer")
    menu_item(app, "Clone Machine")
    wait_for("the clone in the list", lambda: row(app, "Installer 2"))
    clone = read_ini(os.path.join(app.machines, "Installer 2", "machine.ini"))
    if (clone.get("machine/name"), clone.get("devices/cdrom"), clone.get("machine/memory")) != \
            ("Installer 2", iso, "192M"):
        fail("the clone's machine.ini is %r" % clone)
    for name in ("Installer 2", "Installer"):
        select_row(app, name)
        press("Delete")
        alert = wait_for("the delete confirmation", lambda: find(app.root, "alert", None))
        click(find(alert, "check box", "Keep its disk images"))
        click(find(alert, "push button", "Delete"))
        wait_for("%s to go" % name, lambda: not row(app, name) and not os.path.exists(os.path.join(app.machines, name)))
    if os.listdir(app.machines):
        fail("the library still holds %r" % os.listdir(app.machines))


def menu_items_sensitive(app, labels):
    """Whether each of `labels` is offered (sensitive) in the main menu."""
    open_menu(app)
    items = [wait_for(label + " in the menu", lambda: find(app.window, "push button", label)) for label in labels]
    offered = [sensitive(item) for item in items]
    press("Escape")
    return offered


def choose_file(app, title, filters, path):
    """Picks `path` in the file chooser `title`, which offers `filters` (the
    first one chosen), by typing it in its location entry, which Ctrl+L
    shows (under Xvfb without a portal the native chooser is GTK's own
    dialog)."""
    chooser = wait_for("the %s chooser" % title, lambda: find(app.root, "file chooser", title))
    combo = find(chooser, "combo box")
    offered = [n.get_name() for n in find_all(combo, "menu item", visible=False)] if combo else []
    if not combo or combo.get_name() != filters[0] or offered != list(filters):
        fail("the %s chooser offers the filters %r, not %r" % (title, offered, filters))

    def location():
        entry = find(chooser, "text")
        if not entry:
            Atspi.Component.grab_focus(chooser)
            press("ctrl+l")
            time.sleep(0.3)
        return entry
    set_text(wait_for("the chooser's location entry", location), path)
    click(find(chooser, "push button", "Open"))
    wait_for("the chooser to close", lambda: not find(app.root, "file chooser", title))


def firmware_text(log):
    return open(log, errors="replace").read() if os.path.exists(log) else ""


def ini_value(path, key):
    """The value of the first `key=` line of an ini file, or None."""
    for line in open(path).read().splitlines():
        if line.startswith(key + "="):
            return line[len(key) + 1:]
    return None


PENDING = "changes apply at next start"


def pending_shown(app, name):
    return any(PENDING in text for text in label_texts(row(app, name)))


def case_change_cd(app):
    """Changing and ejecting a running machine's CD from the menu: a machine
    booting (SeaBIOS) from its SATA CD, with an IDE drive too, so Change CD
    and Eject CD ask for the drive; the other disc boots after Reset; a file
    that is no ISO gets the engine's line in the info bar; ejected, SeaBIOS
    cannot read the CD. Each change is kept in machine.ini (an ejected drive
    as empty) without marking the running machine's row as having changes
    for its next start, while a change saved before stays marked; started
    again, the machine has the ejected drive empty and the changed disc.
    A stopped machine, and a running one without a CD-ROM drive, are offered
    neither; with one drive there is no drive to pick."""
    vt.require_kvm()
    import test_firmware as tf
    first = tf.boot_cd(app.tmp)
    second_message = b"Vireo second disc ran\n"
    second = tf.boot_cd(app.tmp, name="second.iso", message=second_message)
    data_iso = make_iso(app, "drivers.iso", "DRIVERS")
    not_iso = os.path.join(app.tmp, "zeros.iso")
    with open(not_iso, "wb") as f:
        f.write(bytes(64 * 2048))
    folder = os.path.dirname(write_machine(
        app, "Installer", "[machine]\nname=Installer\nmemory=128M\n[boot]\nfirmware=bios\n"
        "firmware-log=firmware.log\norder=cdrom1\n[devices]\ndisks=%s,bus=sata,media=cdrom\ncdrom=%s\n"
        "[display]\ndisplay=none\n" % (first, data_iso)))
    write_machine(app, "Plain", "[machine]\nname=Plain\nmemory=64M\n[boot]\nfirmware=bios\n"
                  "[display]\ndisplay=none\n")
    write_machine(app, "Single", "[machine]\nname=Single\nmemory=64M\n[boot]\nfirmware=bios\n"
                  "[devices]\ndisks=%s,bus=sata,media=cdrom\n[display]\ndisplay=none\n" % data_iso)
    log = os.path.join(folder, "firmware.log")
    app.start()
    wait_for("the machines", lambda: all(row(app, name) for name in ("Installer", "Plain", "Single")))
    select_row(app, "Installer")
    open_menu(app)
    click(wait_for("Change CD in the menu", lambda: find(app.window, "push button", "Change CD")))
    drives = wait_for("the drives", lambda: [n.get_name() for n in find_all(app.window, "push button")
                                            if n.get_name().startswith("CD-ROM")])
    if drives != ["CD-ROM 1 (SATA)…", "CD-ROM 2 (IDE)…"]:
        fail("Change CD offers the drives %r" % drives)
    if any(sensitive(n) for n in find_all(app.window, "push button") if n.get_name() in drives):
        fail("Change CD is offered for a stopped machine")
    press("Escape")
    wait_for("the menu to close", lambda: not find(app.window, "push button", drives[0]))

    engines = []
    try:
        # Running: a machine without a CD-ROM drive has Reset but no CD
        # items; one with a single drive has them without a drive to pick.
        for name in ("Plain", "Single"):
            click(find(row(app, name), "push button", "Start"))
        for name in ("Plain", "Single"):
            wait_for(name + " to run", lambda: "Running" in label_texts(row(app, name)), timeout=30)
        engines = wait_for("their engines", lambda: len(engine_pids(app)) == 2 and engine_pids(app))
        for name, expected in (("Plain", [True, False, False]), ("Single", [True, True, True])):
            select_row(app, name)
            offered = menu_items_sensitive(app, ("Reset", "Change CD…", "Eject CD"))
            if offered != expected:
                fail("for %s Reset, Change CD… and Eject CD are offered as %r" % (name, offered))
        menu_item(app, "Change CD…")
        chooser = wait_for("the Change CD chooser", lambda: find(app.root, "file chooser", "Change CD"))
        click(find(chooser, "push button", "Cancel"))
        wait_for("the chooser to close", lambda: not find(app.root, "file chooser", "Change CD"))
        for name in ("Plain", "Single"):
            select_row(app, name)
            menu_item(app, "Force Off")
            wait_for(name + " to be off", lambda: "Stopped" in label_texts(row(app, name)), timeout=20)

        click(find(row(app, "Installer"), "push button", "Start"))
        wait_for("Installer to run", lambda: "Running" in label_texts(row(app, "Installer")), timeout=30)
        engines += wait_for("its engine", lambda: [p for p in engine_pids(app) if p not in engines])
        boot = tf.BOOT_MESSAGE.decode().strip()
        wait_for("the first disc to boot", lambda: boot in firmware_text(log), timeout=tf.BOOT_TIMEOUT)

        # Change CD…, drive 1: the second disc boots after Reset.
        iso_filters = ("Disc images", "All files")
        select_row(app, "Installer")
        open_menu(app)
        click(wait_for("Change CD in the menu", lambda: find(app.window, "push button", "Change CD")))
        click(wait_for("the SATA drive", lambda: find(app.window, "push button", "CD-ROM 1 (SATA)…")))
        choose_file(app, "Change CD in CD-ROM 1 (SATA)", iso_filters, second)
        ini = os.path.join(folder, "machine.ini")
        wait_for("machine.ini to keep the second disc",
                 lambda: ini_value(ini, "disks") == "%s,bus=sata,media=cdrom" % second)
        menu_item(app, "Reset")
        wait_for("the second disc to boot", lambda: second_message.decode().strip() in firmware_text(log),
                 timeout=tf.BOOT_TIMEOUT)
        if pending_shown(app, "Installer") or ini_value(ini, "cdrom") != data_iso:
            fail("after Change CD the row says %r, machine.ini has cdrom=%r"
                 % (label_texts(row(app, "Installer")), ini_value(ini, "cdrom")))

        # A file that is no ISO: the engine's one line in the info bar.
        open_menu(app)
        click(wait_for("Change CD in the menu", lambda: find(app.window, "push button", "Change CD")))
        click(wait_for("the SATA drive", lambda: find(app.window, "push button", "CD-ROM 1 (SATA)…")))
        choose_file(app, "Change CD in CD-ROM 1 (SATA)", iso_filters, not_iso)
        error = "“Installer” could not change its CD: CD image %s is not an ISO 9660 or UDF image" % not_iso
        wait_for("the engine's error in the info bar",
                 lambda: any(t.startswith(error) and "\n" not in t for t in label_texts(app.window)))
        if "Running" not in label_texts(row(app, "Installer")):
            fail("a bad disc ended the machine: %r" % label_texts(row(app, "Installer")))

        # Eject CD, drive 1: SeaBIOS finds no disc to boot after Reset.
        failed = "Boot failed: Could not read from CDROM"
        before = firmware_text(log).count(failed)
        open_menu(app)
        click(wait_for("Eject CD in the menu", lambda: find(app.window, "push button", "Eject CD")))
        click(wait_for("the SATA drive", lambda: find(app.window, "push button", "CD-ROM 1 (SATA)")))
        menu_item(app, "Reset")
        wait_for("SeaBIOS to find no disc", lambda: firmware_text(log).count(failed) > before,
                 timeout=tf.BOOT_TIMEOUT)
        text = firmware_text(log)
        if text.count(boot) != 1 or text.count(second_message.decode().strip()) != 1:
            fail("a disc booted again after the eject:\n%s" % text[-3000:])
        if ini_value(ini, "disks") != "empty,bus=sata,media=cdrom" or pending_shown(app, "Installer"):
            fail("after Eject CD machine.ini has disks=%r, the row says %r"
                 % (ini_value(ini, "disks"), label_texts(row(app, "Installer"))))

        # A setting saved while it runs stays marked across a disc change.
        with open(ini) as f:
            settings = f.read()
        with open(ini + ".new", "w") as f:  # replaced whole, as the editor saves
            f.write(settings.replace("memory=128M", "memory=160M"))
        os.replace(ini + ".new", ini)
        wait_for("the saved memory to be marked", lambda: pending_shown(app, "Installer"))
        open_menu(app)
        click(wait_for("Change CD in the menu", lambda: find(app.window, "push button", "Change CD")))
        click(wait_for("the IDE drive", lambda: find(app.window, "push button", "CD-ROM 2 (IDE)…")))
        choose_file(app, "Change CD in CD-ROM 2 (IDE)", iso_filters, second)
        wait_for("machine.ini to keep the IDE drive's disc", lambda: ini_value(ini, "cdrom") == second)
        time.sleep(1)  # the app reloads machine.ini 0.2 s after it changes
        if not pending_shown(app, "Installer") or ini_value(ini, "memory") != "160M":
            fail("the memory change is no longer marked or kept: %r, memory=%r"
                 % (label_texts(row(app, "Installer")), ini_value(ini, "memory")))

        # Started again: the SATA drive is there but empty, the IDE one
        # boots the disc it was changed to.
        menu_item(app, "Force Off")
        wait_for("Installer to be off", lambda: "Stopped" in label_texts(row(app, "Installer")), timeout=20)
        click(find(row(app, "Installer"), "push button", "Start"))
        wait_for("Installer to run", lambda: "Running" in label_texts(row(app, "Installer")), timeout=30)
        engines += wait_for("its engine", lambda: [p for p in engine_pids(app) if p not in engines])
        wait_for("the changed disc to boot at the next start",
                 lambda: second_message.decode().strip() in firmware_text(log), timeout=tf.BOOT_TIMEOUT)
        text = firmware_text(log)
        if "DVD/CD [AHCI/0: VIREO DVD-ROM" not in text or text.count(failed) != 1 or boot in text:
            fail("the ejected SATA drive should be there, empty, and tried first:\n%s" % text[-3000:])
        if pending_shown(app, "Installer"):
            fail("a fresh start has changes marked: %r" % label_texts(row(app, "Installer")))
        menu_item(app, "Force Off")
        wait_for("Installer to be off", lambda: "Stopped" in label_texts(row(app, "Installer")), timeout=20)
        wait_for("the engines to end", lambda: not any(alive(p) for p in engines))
    finally:
        kill_engines(engines)


def case_demo_machine(app):
    """./setup.sh run on a desktop: the library gets the Demo machine (once,
    however often it runs) and the app starts it."""
    vt.require_kvm()
    app.start_x()
    env = dict(app.env, VIREO_ENGINE=ENGINE)
    for _ in range(2):
        subprocess.run(["bash", os.path.join(SOURCE_DIR, "setup.sh"), "demo"], env=env, check=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    demo = os.path.join(app.machines, "Demo", "machine.ini")
    config = configparser.ConfigParser(interpolation=None)
    config.read(demo)
    got = (config.get("machine", "name", fallback=None), config.get("machine", "memory", fallback=None),
           config.get("boot", "firmware", fallback=None), config.get("devices", "disks", fallback=None),
           config.get("display", "display", fallback=None))
    demo_disk = os.path.join(SOURCE_DIR, "build", "tests", "guest", "boot-demo.img") + ",ro"
    if got != ("Demo", "64M", "bios", demo_disk, "sdl"):
        fail("the demo machine is %r" % (got,))
    demos = [name for name in os.listdir(app.machines) if name.startswith("Demo")]
    if demos != ["Demo"]:
        fail("running the demo step twice made %r" % demos)
    app.start()
    click(find(wait_for("the demo machine", lambda: row(app, "Demo")), "push button", "Start"))
    wait_for("the demo machine to run", lambda: "Running" in label_texts(row(app, "Demo")), timeout=30)
    engines = wait_for("its engine", lambda: engine_pids(app))
    menu_item(app, "Force Off")
    wait_for("the demo machine to stop", lambda: "Stopped" in label_texts(row(app, "Demo")), timeout=20)
    wait_for("its engine to end", lambda: not any(alive(p) for p in engines))


def vga_pattern(x, y):
    """tests/guest/vga.c's first picture (1024x768x32) away from its black
    grid lines: four colored quarters."""
    return [[(255, 0, 0), (0, 255, 0)], [(0, 0, 255), (255, 255, 255)]][y >= 384][x >= 512]


def screen_mismatch(node):
    """Where the screen widget's picture, read back from the X server,
    differs from the guest's: the 1024x768 picture scaled into the widget
    with its aspect kept and centred, compared at the middle of each of the
    guest's 64x64 grid cells. None when it matches."""
    gi.require_version("Gdk", "3.0")
    from gi.repository import Gdk
    Gdk.init([])
    x, y, width, height = extents(node)
    picture = Gdk.pixbuf_get_from_window(Gdk.get_default_root_window(), x, y, width, height)
    if picture is None:
        return "the screen could not be read"
    pixels, stride, step = picture.get_pixels(), picture.get_rowstride(), picture.get_n_channels()
    scale = min(width / 1024, height / 768)
    left, top = (width - 1024 * scale) / 2, (height - 768 * scale) / 2
    for gy in range(32, 768, 64):
        for gx in range(32, 1024, 64):
            px, py = int(left + gx * scale), int(top + gy * scale)
            at = py * stride + px * step
            got = tuple(pixels[at:at + 3])
            want = vga_pattern(gx, gy)
            if any(abs(a - b) > 8 for a, b in zip(got, want)):
                return "guest pixel (%d,%d) shows at (%d,%d) of a %dx%d screen as %s, not %s" % (
                    gx, gy, px, py, width, height, got, want)
    return None


def case_screen_page(app):
    """A running machine's screen in the main window: Show opens a page with
    the guest's picture (our VGA test guest's 1024x768 quarters, scaled to
    the window with the aspect kept), served by the engine on a private
    socket (mode 0600, in the user's 0700 runtime folder); Back returns to
    the list with the machine still running; double-clicking the running
    machine's row opens the page again; when the machine stops, the page
    says so instead of keeping a picture that looks alive. A machine whose
    VNC server others reach keeps it: Show gives its address."""
    vt.require_kvm()
    guest_dir = os.environ.get("VIREO_GUEST_DIR", os.path.join(SOURCE_DIR, "build", "tests", "guest"))
    write_machine(app, "Screen", "[machine]\nname=Screen\nmemory=64M\n[boot]\nkernel=%s\n"
                  "[devices]\nserial=none\n[display]\ndisplay=vnc=127.0.0.1\n" % os.path.join(guest_dir, "vga.elf"))
    app.start()
    click(find(wait_for("the machine", lambda: row(app, "Screen")), "push button", "Start"))
    wait_for("the machine to run", lambda: "Running" in label_texts(row(app, "Screen")), timeout=30)
    path = os.path.join(app.env["XDG_RUNTIME_DIR"], "vireo", "Screen.vnc")
    wait_for("its screen socket", lambda: os.path.exists(path))
    if oct(os.stat(path).st_mode & 0o777) != "0o600" or oct(os.stat(os.path.dirname(path)).st_mode & 0o777) != "0o700":
        fail("the screen socket is not private: %o in a %o folder"
             % (os.stat(path).st_mode & 0o777, os.stat(os.path.dirname(path)).st_mode & 0o777))
    for reopen in (lambda: click(wait_for("Show", lambda: find(row(app, "Screen"), "push button", "Show"))),
                   lambda: double_click(row(app, "Screen"))):
        reopen()
        print("opening the screen page", flush=True)
        screen = wait_for("the screen page", lambda: find(app.window, "drawing area", "Screen of “Screen”"))
        problems = [None]
        if not poll(lambda: not problems.append(screen_mismatch(screen)) and problems[-1] is None, 30):
            fail("the screen page does not show the guest's picture: " + problems[-1])
        if row(app, "Screen"):
            fail("the machine list still shows beside the screen")
        click(find(app.window, "push button", "Back"))
        wait_for("the list again", lambda: row(app, "Screen"))
        if "Running" not in label_texts(row(app, "Screen")):
            fail("Back stopped the machine")
    click(find(row(app, "Screen"), "push button", "Show"))
    wait_for("the screen page", lambda: find(app.window, "drawing area", "Screen of “Screen”"))
    engines = engine_pids(app)
    menu_item(app, "Force Off")
    wait_for("the page to say the machine stopped", lambda: "“Screen” is not running" in label_texts(app.window))
    wait_for("its engine to end", lambda: not any(alive(p) for p in engines))
    if os.path.exists(path):
        fail("the screen socket outlived the engine")
    click(find(app.window, "push button", "Back"))
    remote_address_shown(app, guest_dir)


def remote_address_shown(app, guest_dir):
    """A VNC server other computers reach (here with a password) stays the
    engine's one server: Show gives its address, and Copy puts it on the
    clipboard."""
    from test_display import free_port
    port = free_port()
    password = os.path.join(app.tmp, "password")
    with open(password, "w") as f:
        f.write("s3cret\n")
    write_machine(app, "Remote", "[machine]\nname=Remote\nmemory=64M\n[boot]\nkernel=%s\n[devices]\nserial=none\n"
                  "[display]\ndisplay=vnc=0.0.0.0:%d,password-file=%s\n" % (os.path.join(guest_dir, "vga.elf"), port, password))
    click(find(wait_for("the machine", lambda: row(app, "Remote")), "push button", "Start"))
    click(wait_for("Show", lambda: find(row(app, "Remote"), "push button", "Show"), timeout=30))
    address = "0.0.0.0:%d" % port
    wait_for("the VNC address", lambda: "“Remote” shows its screen over VNC at " + address in label_texts(app.window))
    click(find(app.window, "push button", "Copy Address"))
    wait_for("the address on the clipboard", lambda: clipboard_text(app) == address)
    if os.path.exists(os.path.join(app.env["XDG_RUNTIME_DIR"], "vireo", "Remote.vnc")):
        fail("a machine whose VNC server others reach got a private screen socket as well")
    engines = engine_pids(app)
    select_row(app, "Remote")
    menu_item(app, "Force Off")
    wait_for("its engine to end", lambda: not any(alive(p) for p in engines))


def guest_keys(path):
    """The scan codes our PS/2 test guest printed to its serial file."""
    with open(path) as f:
        return re.findall(r"kbd ([0-9a-f]{2})", f.read())


def case_screen_keys(app):
    """Keys typed into the screen page reach the guest's PS/2 keyboard (not
    the app's search), and Send Key types Ctrl+Alt+Del, which a desktop
    keeps for itself, as its scan codes (set 1: Ctrl 1d, Alt 38, Delete
    e0 53, let go in the reverse order)."""
    vt.require_kvm()
    guest_dir = os.environ.get("VIREO_GUEST_DIR", os.path.join(SOURCE_DIR, "build", "tests", "guest"))
    serial = os.path.join(app.tmp, "serial.txt")
    write_machine(app, "Keys", "[machine]\nname=Keys\nmemory=64M\n[boot]\nkernel=%s\n[devices]\nserial=file:%s\n"
                  "[display]\ndisplay=none\n" % (os.path.join(guest_dir, "ps2-input.elf"), serial))
    app.start()
    click(find(wait_for("the machine", lambda: row(app, "Keys")), "push button", "Start"))
    wait_for("the guest's keyboard", lambda: os.path.exists(serial) and "ps2: ready" in open(serial).read(),
             timeout=30)
    click(wait_for("Show", lambda: find(row(app, "Keys"), "push button", "Show")))
    screen = wait_for("the screen page", lambda: find(app.window, "drawing area", "Screen of “Keys”"))
    x, y, width, height = extents(screen)
    subprocess.run(["xdotool", "mousemove", str(x + width // 2), str(y + height // 2)], check=True)
    time.sleep(1)  # the connection's handshake
    press("a")
    wait_for("a in the guest", lambda: guest_keys(serial)[-2:] == ["1e", "9e"])
    if find(app.window, "text", "Search machines"):
        fail("a key typed into the screen opened the search")
    click(find(app.window, "toggle button", "Send Key"))
    click(wait_for("Ctrl+Alt+Del in the menu", lambda: find(app.window, "menu item", "Ctrl+Alt+Del")))
    combination = ["1d", "38", "e0", "53", "e0", "d3", "b8", "9d"]
    wait_for("Ctrl+Alt+Del in the guest", lambda: guest_keys(serial)[2:] == combination)
    press("q")  # ends the guest
    wait_for("the page to say the machine stopped", lambda: "“Keys” is not running" in label_texts(app.window),
             timeout=20)


def poll(check, seconds):
    """Whether check() came true within `seconds`."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL_SECONDS)
    return True


def double_click(node):
    """A real double click (xdotool) at the middle of node."""
    x, y, width, height = extents(node)
    subprocess.run(["xdotool", "mousemove", str(x + width // 2), str(y + height // 2),
                    "click", "--repeat", "2", "--delay", "80", "1"], check=True)


def screenshot_library(app):
    iso = os.path.join(app.tmp, "debian-12-netinst.iso")
    open(iso, "wb").close()
    write_machine(app, "Debian", "[machine]\nname=Debian 12\nmemory=2G\ncpus=2\n[devices]\ndisks=%s,ro\n" % iso)
    write_machine(app, "Demo", "[machine]\nname=Vireo demo\nmemory=64M\n[boot]\nkernel=/boot/demo.elf\n")
    write_machine(app, "Server", "[machine]\nname=Web server\nmemory=4G\ncpus=4\n[boot]\n"
                  "kernel=/boot/vmlinuz\n[display]\ndisplay=vnc=127.0.0.1:5901\n")


def save_screenshot(app, name):
    """The main window as a PNG: in the test's folder, and in data/screenshots/
    (what the metainfo points at) unless VIREO_UPDATE_SCREENSHOT=0."""
    time.sleep(0.5)  # let the last frame draw
    x, y, width, height = extents(app.window)
    gi.require_version("Gdk", "3.0")
    from gi.repository import Gdk
    Gdk.init([])
    picture = Gdk.pixbuf_get_from_window(Gdk.get_default_root_window(), x, y, width, height)
    if picture is None:
        fail("could not read the screen")
    targets = [os.path.join(os.environ.get("VIREO_SCREENSHOT_DIR", app.tmp), name)]
    if os.environ.get("VIREO_UPDATE_SCREENSHOT", "1") == "1":
        targets.append(os.path.join(SOURCE_DIR, "data", "screenshots", name))
    for path in targets:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        picture.savev(path + ".tmp", "png", [], [])
        os.replace(path + ".tmp", path)
        print("saved " + path)


def case_screenshot(app):
    screenshot_library(app)
    app.start()
    wait_for("the machines", lambda: row(app, "Web server"))
    save_screenshot(app, "main-window.png")


def case_screenshot_zh_CN(app):
    """The same window in Chinese. LANGUAGE picks the catalog, so the test
    needs no generated zh_CN locale; the font is Debian's fonts-wqy-microhei."""
    if not subprocess.run(["fc-list", ":lang=zh-cn"], capture_output=True, text=True).stdout.strip():
        fail("no font with Chinese characters (Debian package fonts-wqy-microhei; ./setup.sh deps installs it)")
    app.env["LANGUAGE"] = "zh_CN"
    screenshot_library(app)
    app.start()
    item = wait_for("the machines", lambda: row(app, "Web server"))
    texts = label_texts(item)
    for expected in ("已停止", "Linux 内核 vmlinuz", "4 GiB · 4 个处理器"):
        if expected not in texts:
            fail("the row shows %r, not %r" % (texts, expected))
    if not find(app.window, "push button", "新建(N)"):
        fail("the New button is not in Chinese")
    save_screenshot(app, "main-window-zh_CN.png")


def extents(node):
    rect = Atspi.Component.get_extents(node, Atspi.CoordType.SCREEN)
    return rect.x, rect.y, rect.width, rect.height


def main():
    case = "case_" + sys.argv[1].replace("-", "_") if len(sys.argv) == 2 else ""
    if case not in globals():
        print("usage: test_app.py CASE")
        return 2
    if not os.path.exists(APP):
        fail("no app at " + APP)
    # A private session bus (and accessibility bus) for this case alone.
    if not os.environ.get("VIREO_APP_TEST_BUS"):
        for tool in ("dbus-run-session", "Xvfb", "xdotool"):
            if not shutil.which(tool):
                fail("%s is not installed (./setup.sh deps installs it)" % tool)
        env = dict(os.environ, VIREO_APP_TEST_BUS="1")
        return subprocess.call(["dbus-run-session", "--", sys.executable, os.path.abspath(__file__), sys.argv[1]],
                               env=env)
    faulthandler.enable()  # a crash inside libatspi still says where
    global Atspi, GLib, gi
    import gi
    gi.require_version("Atspi", "2.0")
    from gi.repository import Atspi, GLib
    tmp = tempfile.mkdtemp(prefix="vireo-app-test-")
    app = App(tmp)
    try:
        globals()[case](app)
    finally:
        app.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
