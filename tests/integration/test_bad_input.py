#!/usr/bin/env python3
"""Bad input gets one clear line on stderr and a non-zero exit, before any
guest runs. Usage: test_bad_input.py CASE (see CASES)."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import vireo_test as vt


def guest(name):
    return os.path.join(vt.guest_dir(), name + ".elf")


def run(args, env=None, prefix=()):
    cmd = list(prefix) + [vt.engine_path()] + args
    full_env = dict(os.environ, **(env or {}))
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       env=full_env, timeout=30)
    return p.returncode, p.stderr


def expect(args, *needles, status=None, env=None, prefix=()):
    code, err = run(args, env, prefix)
    lines = err.strip().splitlines()
    if code == 0 or (status is not None and code != status):
        vt.fail("exit status %d (expected %s) for %s; stderr: %r"
                % (code, status or "non-zero", args, err))
    if len(lines) != 1 or not lines[0].startswith("vireo-engine: "):
        vt.fail("expected one 'vireo-engine: ...' line, got %r" % err)
    for needle in needles:
        if needle not in lines[0]:
            vt.fail("message %r does not mention %r" % (lines[0], needle))
    print("ok: %s" % lines[0])


def expect_as_nobody(tmp, args, *needles, status=2):
    """expect(), the engine run as an unprivileged user (root may open any
    file and /dev/kvm); tmp is made readable for it."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        vt.skip("needs root and setpriv to run as an unprivileged user")
    os.chmod(tmp, 0o755)
    expect(args, *needles, status=status,
           prefix=["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"])


def write(tmp, name, text, mode="w"):
    path = os.path.join(tmp, name)
    with open(path, mode) as f:
        f.write(text)
    return path


def case_no_kvm(tmp):
    # A mount namespace where /dev has no kvm node: the host without KVM.
    if os.geteuid() != 0 or not shutil.which("unshare"):
        vt.skip("needs root and unshare to hide /dev/kvm")
    script = 'mount -t tmpfs none /dev && exec "$@"'
    expect(["--kernel", guest("pci")], "/dev/kvm does not exist",
           prefix=["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh"])


def case_kvm_permission(tmp):
    kernel = shutil.copy(guest("pci"), os.path.join(tmp, "pci.elf"))
    os.chmod(kernel, 0o644)
    expect_as_nobody(tmp, ["--kernel", kernel], "no permission to open /dev/kvm", "'kvm' group", status=None)


def case_missing_capability(tmp):
    expect(["--kernel", guest("pci")], "KVM_CAP_IRQFD",
           env={"VIREO_TEST_HIDE_KVM_CAP": "IRQFD"}, status=1)


def case_kernel_missing(tmp):
    expect(["--kernel", os.path.join(tmp, "nope")], "kernel", "No such file", status=2)


def case_kernel_not_bootable(tmp):
    expect(["--kernel", write(tmp, "notes.txt", "not a kernel\n")],
           "neither a bzImage nor an ELF kernel with a PVH entry note", status=1)


def case_elf_without_pvh(tmp):
    # A real ELF program that is no PVH kernel.
    expect(["--kernel", "/bin/true"], "without a PVH entry note", status=1)


def case_bzimage_truncated(tmp):
    with open(os.path.join(vt.images_dir(), "vmlinuz"), "rb") as f:
        head = f.read(0x300)
    expect(["--kernel", write(tmp, "short", head, "wb")], "damaged bzImage setup header", status=1)


def case_initrd_missing(tmp):
    expect(["--kernel", guest("pci"), "--initrd", os.path.join(tmp, "initrd.img")],
           "initrd", "No such file", status=2)


def case_memory_too_large(tmp):
    expect(["--kernel", guest("pci"), "--memory", "64T"], "more than this host's", status=1)


def case_memory_garbage(tmp):
    expect(["--kernel", guest("pci"), "--memory", "lots"], "--memory", "'lots'", status=2)


def case_cpus_out_of_range(tmp):
    expect(["--kernel", guest("pci"), "--cpus", "0"], "--cpus", "1 to 255", status=2)


def case_cpu_feature_unknown(tmp):
    expect(["--kernel", guest("pci"), "--cpu", "host,-warp-drive"], "-warp-drive", status=1)


def case_unknown_flag(tmp):
    expect(["--kernel", guest("pci"), "--frobnicate"], "--frobnicate", status=2)


def case_trace_bogus(tmp):
    expect(["--kernel", guest("pci"), "--trace", "unclaimed,bogus"], "--trace", '"bogus"', "unclaimed, io",
           status=2)


def case_trace_file_unwritable(tmp):
    expect(["--kernel", guest("pci"), "--trace", "pci", "--trace-file", os.path.join(tmp, "no", "trace.log")],
           "--trace-file", "No such file", status=2)


def case_ini_syntax(tmp):
    ini = write(tmp, "machine.ini", "[machine]\nname=x\nthis line is wrong\n")
    expect([ini], "machine.ini:3:", "this line is wrong", status=2)


def case_ini_bad_value(tmp):
    ini = write(tmp, "machine.ini", "[machine]\nmemory=512M\ncpus=many\n")
    expect([ini], "machine.ini:3:", "cpus 'many'", status=2)


def case_ini_unknown_key(tmp):
    ini = write(tmp, "machine.ini", "# demo\n[boot]\nkernal=vmlinuz\n")
    expect([ini], "machine.ini:3:", "unknown setting 'kernal'", status=2)


def case_ini_missing(tmp):
    expect([os.path.join(tmp, "missing.ini")], "cannot read machine file", status=2)


def disk_args(*disks):
    args = ["--kernel", guest("demo")]
    for disk in disks:
        args += ["--disk", disk]
    return args


def image(tmp, name, size=1 << 20, head=b""):
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(size)
    return path


def case_disk_missing(tmp):
    expect(disk_args(os.path.join(tmp, "nope.img")), "disk image", "nope.img", "No such file", status=2)


def case_disk_directory(tmp):
    expect(disk_args(tmp), "disk image", "is a directory", status=2)


def case_disk_empty(tmp):
    expect(disk_args(image(tmp, "empty.img", 0)), "empty.img", "is empty", status=2)


def case_disk_qcow2(tmp):
    path = image(tmp, "disk.qcow2", head=b"QFI\xfb\x00\x00\x00\x03")
    expect(disk_args(path), "disk.qcow2", "qcow2 format", "raw", status=2)


def case_disk_bad_option(tmp):
    expect(disk_args(image(tmp, "d.img") + ",rw"), "--disk", "disk option 'rw'", status=2)


def case_disk_cdrom_on_virtio(tmp):
    expect(disk_args(image(tmp, "cd.iso") + ",media=cdrom"), "cd.iso", "a CD-ROM needs bus=ide or bus=sata",
           status=2)


def case_disk_sata_ports_full(tmp):
    disks = [image(tmp, "d%d.img" % i) + ",bus=sata" for i in range(7)]
    expect(disk_args(*disks), "d6.img", "the SATA controller has 6 ports, all taken", status=2)


def case_disk_read_only_file(tmp):
    # On a file it may only read (root may write anything), without the ro option.
    path = image(tmp, "ro.img")
    os.chmod(path, 0o444)
    expect_as_nobody(tmp, disk_args(path), "ro.img", "is read-only", "add ro")


def case_disk_locked(tmp):
    """Two engines on one image: the second refuses before its guest starts."""
    path = image(tmp, "shared.img")
    first = subprocess.Popen([vt.engine_path()] + disk_args(path) + ["--serial", "none"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(100):  # until the first engine holds its lock
            if os.path.exists("/proc/%d/fdinfo" % first.pid) and any(
                    os.path.realpath("/proc/%d/fd/%s" % (first.pid, fd)) == os.path.realpath(path)
                    for fd in os.listdir("/proc/%d/fd" % first.pid)):
                break
            time.sleep(0.05)
        expect(disk_args(path), "shared.img", "in use by another running machine", status=2)
        expect(disk_args(path + ",ro"), "shared.img", "in use by another running machine", status=2)
    finally:
        first.terminate()
        first.wait(10)


def iso(tmp, name, blocks=40, extra=0, magic=b"CD001"):
    """An image with a volume descriptor's identifier at byte 32769."""
    path = image(tmp, name, blocks * 2048 + extra)
    with open(path, "r+b") as f:
        f.seek(32769)
        f.write(magic)
    return path


def case_cdrom_missing(tmp):
    expect(["--cdrom", os.path.join(tmp, "nope.iso")], "--cdrom", "nope.iso", "No such file", status=2)


def case_cdrom_empty(tmp):
    expect(["--cdrom", image(tmp, "empty.iso", 0)], "--cdrom", "empty.iso", "is empty", status=2)


def case_cdrom_unreadable(tmp):
    # On a file nobody may read (root reads anything).
    path = iso(tmp, "secret.iso")
    os.chmod(path, 0o000)
    expect_as_nobody(tmp, ["--cdrom", path], "--cdrom", "secret.iso", "Permission denied")


def case_cdrom_not_iso(tmp):
    expect(["--cdrom", image(tmp, "disk.img")], "--cdrom", "disk.img", "not an ISO 9660 or UDF image",
           "CD001", status=2)


def case_cdrom_size_not_blocks(tmp):
    # Refused rather than rounded: a torn download should not boot half a disc.
    expect(["--cdrom", iso(tmp, "torn.iso", extra=1000)], "torn.iso", "not a whole number of 2048-byte blocks",
           status=2)


def case_disk_media_cdrom_not_iso(tmp):
    expect(["--disk", image(tmp, "disk.img") + ",bus=ide,media=cdrom"], "disk.img", "not an ISO 9660", status=2)


def case_ide_too_many(tmp):
    args = []
    for i in range(5):
        args += ["--disk", image(tmp, "d%d.img" % i) + ",bus=ide"]
    expect(args, "d4.img", "too many IDE drives", "at most 4", status=2)


def case_ide_cdrom_taken(tmp):
    args = ["--cdrom", iso(tmp, "cd.iso")]
    for i in range(3):
        args += ["--disk", image(tmp, "d%d.img" % i) + ",bus=ide"]
    expect(args, "d2.img", "secondary master", "--cdrom", status=2)


def case_ide_with_kernel(tmp):
    expect(disk_args(image(tmp, "d.img") + ",bus=ide"), "d.img", "IDE needs firmware boot", "bus=virtio", status=2)
    expect(["--kernel", guest("demo"), "--cdrom", iso(tmp, "cd.iso")], "--cdrom", "IDE needs firmware boot",
           status=2)


def case_cdrom_no_disc_misused(tmp):
    """`empty` (a drive with no disc) is no way around a drive's rules, and
    an empty value is not it."""
    expect(["--cdrom", ""], "--cdrom", "cdrom '' is not valid: expected a file name or empty", status=2)
    expect(["--kernel", guest("demo"), "--cdrom", "empty"], "--cdrom empty", "IDE needs firmware boot", status=2)
    expect(disk_args("empty,media=cdrom"), "empty,media=cdrom", "a CD-ROM needs bus=ide or bus=sata", status=2)


def case_net_bad_option(tmp):
    expect(["--kernel", guest("demo"), "--net", "user,hostfwd=tcp:2222-22"], "--net", "hostfwd=tcp:2222-22",
           status=2)


def case_net_unknown_backend(tmp):
    expect(["--kernel", guest("demo"), "--net", "bridge"], "--net", "net 'bridge'", "user", status=2)


def case_net_tap_without_ifname(tmp):
    expect(["--kernel", guest("demo"), "--net", "tap,tftp=/srv"], "--net", "tftp=/srv", "ifname=NAME", status=2)


def case_net_tftp_missing(tmp):
    expect(["--kernel", guest("demo"), "--net", "user,tftp=" + os.path.join(tmp, "nope")], "tftp=",
           "not a folder", status=2)


def case_net_port_in_use(tmp):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        expect(["--kernel", guest("demo"), "--net", "user,hostfwd=tcp:127.0.0.1:%d-:22" % port],
               "hostfwd", str(port), status=1)


def case_display_bad(tmp):
    expect(["--kernel", guest("demo"), "--display", "vnc=127.0.0.1:99999"], "--display", "vnc=127.0.0.1:99999",
           status=2)


def case_display_port_in_use(tmp):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        expect(["--kernel", guest("demo"), "--display", "vnc=127.0.0.1:%d" % port], "vnc=127.0.0.1:%d" % port,
               "cannot listen", status=2)


def case_display_open_without_password(tmp):
    """A VNC server other computers reach, with no password: refused from
    the command line and from machine.ini, naming the ways out, before it
    listens (192.0.2.1 is no address of this host)."""
    ways_out = (",password-file=FILE", "127.0.0.1", ",insecure")
    for where in ("0.0.0.0", "192.0.2.1:5901"):
        expect(["--kernel", guest("demo"), "--display", "vnc=" + where], "vnc=" + where.split(":")[0],
               "without a password", *ways_out, status=2)
    ini = write(tmp, "machine.ini", "[boot]\nkernel=%s\n[display]\ndisplay=vnc=0.0.0.0\n" % guest("demo"))
    expect([ini], "vnc=0.0.0.0", "without a password", *ways_out, status=2)
    expect(["--kernel", guest("demo"), "--display", "vnc=0.0.0.0", "--add-to-library"], "vnc=0.0.0.0",
           *ways_out, status=2, env={"XDG_DATA_HOME": tmp})
    if os.path.exists(os.path.join(tmp, "vireo")):
        vt.fail("--add-to-library wrote a machine it refused")


def case_display_open_insecure(tmp):
    """With ,insecure the user says they mean it: the engine serves VNC on
    every network without a password, and says so once on stderr."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with vt.Engine(["--kernel", guest("demo"), "--display", "vnc=0.0.0.0:%d,insecure" % port]) as engine:
        engine.wait_for(r"Vireo demo guest", 30)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as viewer:
            if not viewer.recv(12).startswith(b"RFB "):
                vt.fail("the VNC server did not greet a viewer")
        engine.send(b"q")
        if engine.wait_exit(20) != 0:
            vt.fail("the engine did not end cleanly")
        err = engine.proc.stderr.read().decode()
    if err.count("\n") != 1 or "warning: VNC on 0.0.0.0:%d without a password (insecure)" % port not in err:
        vt.fail("expected one warning line on stderr, got %r" % err)
    print("ok: %s" % err.strip())


def case_display_unix_not_socket(tmp):
    """vnc=unix:PATH where a file is: refused, the file left as it was; a
    path too long for a socket, or none, is refused too. A UNIX socket is
    private: no password asked for."""
    path = write(tmp, "screen", "keep me\n")
    expect(["--kernel", guest("demo"), "--display", "vnc=unix:" + path], "vnc=unix:" + path,
           "something other than a socket", status=2)
    with open(path) as f:
        if f.read() != "keep me\n":
            vt.fail("the engine changed the file at the socket's path")
    long_path = os.path.join(tmp, "x" * 120)
    expect(["--kernel", guest("demo"), "--display", "vnc=unix:" + long_path], "longer than 107 bytes", status=2)
    expect(["--kernel", guest("demo"), "--display", "vnc=unix:"], "vnc=unix:PATH", status=2)


def case_display_password_file_missing(tmp):
    expect(["--kernel", guest("demo"), "--display", "vnc,password-file=" + os.path.join(tmp, "nope")],
           "password-file", "nope", status=2)


def case_add_to_library_bad(tmp):
    """--add-to-library checks the machine as a run would, and says when the
    library cannot be read; nothing is written either way."""
    env = {"XDG_DATA_HOME": tmp}
    expect(["--name", "X", "--kernel", "/nonexistent/vmlinuz", "--add-to-library"], "/nonexistent/vmlinuz",
           status=2, env=env)
    if os.path.exists(os.path.join(tmp, "vireo")):
        vt.fail("a machine with a missing kernel was added to the library")
    os.makedirs(os.path.join(tmp, "vireo"))
    write(tmp, "vireo/machines", "a file where the library folder belongs")
    expect(["--name", "X", "--kernel", guest("demo"), "--add-to-library"], "cannot read the machine library",
           os.path.join(tmp, "vireo", "machines"), status=1, env=env)


def case_gpu_unknown(tmp):
    expect(["--kernel", guest("demo"), "--gpu", "cirrus"], "--gpu", "cirrus", "std|virtio|none", status=2)
    ini = write(tmp, "machine.ini", "[display]\ngpu=qxl\n")
    expect([ini], "gpu", "qxl", status=2)


def case_firmware_missing(tmp):
    # No kernel: SeaBIOS boots, and its file is not there.
    expect([], "bios-256k.bin", "seabios", status=2, env={"VIREO_FIRMWARE_DIR": tmp})
    write(tmp, "bios-256k.bin", "too small")
    expect([], "bios-256k.bin", "not a firmware image", status=2, env={"VIREO_FIRMWARE_DIR": tmp})


def case_firmware_uefi(tmp):
    expect(["--firmware", "uefi"], "uefi", "not available yet", status=2)
    expect(["--firmware", "coreboot"], "--firmware", "coreboot", "bios|uefi", status=2)
    ini = write(tmp, "machine.ini", "[boot]\nfirmware=uefi\n")
    expect([ini], "uefi", "not available yet", status=2)


def case_firmware_with_kernel(tmp):
    expect(["--kernel", guest("demo"), "--firmware", "bios"], "firmware bios", "kernel", status=2)
    expect(["--initrd", guest("demo")], "initrd", "--kernel", status=2)


def case_firmware_log_unwritable(tmp):
    expect(["--firmware-log", os.path.join(tmp, "no", "such", "dir", "log")], "firmware-log", "No such file",
           status=2)


def case_boot_order_unknown(tmp):
    expect(["--boot-order", "cdrom,floppy"], "--boot-order", "boot order item 'floppy'",
           "expected disk, cdrom, diskN or cdromN", status=2)
    ini = write(tmp, "machine.ini", "[boot]\norder=net\n")
    expect([ini], "machine.ini:2", "boot order item 'net'", status=2)
    expect(["--boot-order", "disk2", "--disk", image(tmp, "one.img")], "boot order disk2",
           "the machine has 1 hard disk", status=2)
    expect(["--boot-menu-wait", "0"], "--boot-menu-wait", "seconds from 1 to 60", status=2)


def case_control_socket_taken(tmp):
    sock = os.path.join(tmp, "engine.sock")
    with vt.Engine(["--kernel", guest("ps2-input"), "--memory", "64M", "--control", sock]) as first:
        first.wait_for(r"ps2: ready", 30)
        expect(["--kernel", guest("demo"), "--control", sock], "control socket", sock, "another engine", status=2)
        first.send(b"")
    plain = write(tmp, "not-a-socket", "x")
    expect(["--kernel", guest("demo"), "--control", plain], "control socket", "not a socket", status=2)
    with open(plain) as f:
        if f.read() != "x":
            vt.fail("the engine touched a file that is not its socket")


def case_message_translated(tmp):
    """The user's language (LANGUAGE picks the catalog; no generated locale
    needed): a refused setting and a wrong machine.ini line in Chinese."""
    chinese = {"LANGUAGE": "zh_CN", "LANG": "C.UTF-8", "LC_ALL": ""}
    expect(["--memory", "lots"], "--memory", "memory“lots”无效，应为：大小，例如 512M 或 4G", status=2, env=chinese)
    ini = write(tmp, "machine.ini", "[machine]\nname=x\nmemroy=1G\n")
    expect([ini], "machine.ini:3：[machine] 中的未知设置“memroy”", status=2, env=chinese)


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}
# Errors the engine meets only once /dev/kvm is open (it checks the command
# line and the files it names first), or that need a first engine running.
NEEDS_KVM = {"kvm_permission", "missing_capability", "kernel_not_bootable", "elf_without_pvh", "bzimage_truncated",
             "memory_too_large", "cpu_feature_unknown", "disk_locked", "net_port_in_use", "control_socket_taken",
             "display_open_insecure"}

if __name__ == "__main__":
    if sys.argv[1] in NEEDS_KVM:
        vt.require_kvm()
    with tempfile.TemporaryDirectory() as tmp:
        CASES[sys.argv[1]](tmp)
