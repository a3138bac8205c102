#!/usr/bin/env python3
"""Our small test guests (tests/guest/) on vireo-engine, one device each.
Usage: test_guests.py CASE (see CASES)."""
import datetime
import os
import re
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


def boot(name, *extra, env=None):
    return vt.Engine(["--kernel", guest(name), "--memory", "64M", "--no-reboot", *extra], env=env)


def case_uart():
    """Bytes typed on the serial backend reach the guest by interrupt."""
    with boot("uart") as engine:
        engine.wait_for(r"uart: ready", 20)
        engine.send(b"ping\n")
        m = engine.wait_for(r"uart: PASS irqs=(\d+)", 20)
        if int(m.group(1)) < 1:
            vt.fail("no receive interrupts counted")
        engine.wait_for(r"uart: got 70", 1)  # 'p', echoed from the IRQ handler
        if engine.wait_exit(20) != 0:
            vt.fail("engine did not end cleanly")


def case_rtc():
    """The guest reads the host's UTC time from the CMOS RTC."""
    with boot("rtc") as engine:
        m = engine.wait_for(r"rtc: (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", 20)
        host = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        guest_time = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")
        skew = abs((host - guest_time).total_seconds())
        if skew > 2:
            vt.fail("guest time %s is %.1f s from host %s" % (guest_time, skew, host))
        engine.wait_for(r"rtc: PASS", 5)
        print("ok: guest RTC within %.1f s of the host" % skew)


def case_i8042_reset():
    """0xFE to port 0x64 resets; with --no-reboot the engine ends with 0."""
    with boot("i8042") as engine:
        engine.wait_for(r"i8042: selftest ok", 20)
        engine.wait_for(r"i8042: resetting", 5)
        if engine.wait_exit(10) != 0:
            vt.fail("engine exit status is not 0")
        if "FAIL" in engine.output():
            vt.fail("guest kept running after the reset")


def case_ahci():
    """Direct boot with a SATA disk and a SATA CD-ROM: the guest finds the
    AHCI controller where the engine put its BARs, IDENTIFYs the disk (our
    serial, its size), reads sector 1 and writes sector 2 by DMA (both
    checked against the image), and reads block 16 of the ISO."""
    with tempfile.TemporaryDirectory() as tmp:
        disk = os.path.join(tmp, "sata.img")
        with open(disk, "wb") as f:
            f.truncate(2 << 20)
            f.seek(512)
            f.write(b"SECTOR ONE OF THE SATA DISK\0")
        root = os.path.join(tmp, "root")
        os.mkdir(root)
        with open(os.path.join(root, "readme.txt"), "w") as f:
            f.write("a CD\n")
        cd = os.path.join(tmp, "cd.iso")
        subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-o", cd, root], check=True, capture_output=True)
        with boot("ahci", "--disk", disk + ",bus=sata,serial=SATA-SERIAL-7", "--disk",
                  cd + ",bus=sata,media=cdrom") as engine:
            engine.wait_for(r"ahci: controller at 00:1f\.0 abar e[0-9a-f]{7}", 20)
            engine.wait_for(r"ahci: cap 80241f05 pi 3f ghc 80000000", 20)
            engine.wait_for(r"ahci: serial 'SATA-SERIAL-7'", 20)
            engine.wait_for(r"ahci: identify tfd 50 sectors 4096", 20)
            engine.wait_for(r"ahci: read tfd 50 sector 1 'SECTOR ONE OF THE SATA DISK'", 20)
            engine.wait_for(r"ahci: write tfd 50", 20)
            engine.wait_for(r"ahci: flush tfd 50", 20)
            engine.wait_for(r"ahci: cd read tfd 50 block 16 'CD001'", 20)
            engine.wait_for(r"ahci: done", 20)
            if engine.wait_exit(10) != 0 or "FAIL" in engine.output():
                vt.fail("the guest failed:\n%s" % engine.output())
        with open(disk, "rb") as f:
            f.seek(1024)
            if f.read(512) != b"WRITTEN BY THE AHCI GUEST".ljust(512, b"\0"):
                vt.fail("sector 2 of the image does not hold what the guest wrote")


def case_trace_unclaimed():
    """--trace unclaimed names each port and MMIO access no device claims:
    the guest probes COM2's scratch register and the HPET, which we do not
    emulate. To --trace-file, and to stderr without it."""
    expected = [r"unclaimed: port 0x2ff write 1 byte value 0x5a\n",
                r"unclaimed: port 0x2ff read 1 byte\n",
                r"unclaimed: MMIO 0xfed00000 read 4 bytes\n"]
    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "trace.log")
        with boot("unclaimed", "--trace", "unclaimed", "--trace-file", trace) as engine:
            engine.wait_for(r"unclaimed: PASS", 20)
            if engine.wait_exit(10) != 0:
                vt.fail("engine did not end cleanly")
        with open(trace) as f:
            text = f.read()
    run = subprocess.run([vt.engine_path(), "--kernel", guest("unclaimed"), "--memory", "64M", "--no-reboot",
                          "--trace", "unclaimed"], capture_output=True, text=True, timeout=60)
    for where, out in (("--trace-file", text), ("stderr", run.stderr)):
        for line in expected:
            if not re.search(r"^vireo-engine: \d+\.\d{6} " + line, out, re.M):
                vt.fail("%s lacks %r:\n%s" % (where, line, out[-2000:]))
    if run.returncode != 0 or "0x3f8" in text:
        vt.fail("status %d, or COM1 (claimed) traced as unclaimed" % run.returncode)
    print("ok: %d unclaimed accesses traced" % text.count("\n"))


def case_ahci_other_vcpu_runs():
    """No vCPU waits on the disk: with the block layer's test delay making
    the SATA disk slow (500 ms a request), the PxCI write that issues a read
    returns with the read still outstanding, and the guest's other vCPU,
    reading AHCI registers in a loop, keeps counting until it completes."""
    with tempfile.TemporaryDirectory() as tmp:
        disk = os.path.join(tmp, "sata.img")
        with open(disk, "wb") as f:
            f.truncate(2 << 20)
            f.seek(512)
            f.write(b"SECTOR ONE OF THE SATA DISK\0")
        with boot("ahci", "--cpus", "2", "--append", "hold", "--disk", disk + ",bus=sata",
                  env={"VIREO_TEST_BLOCK_DELAY_MS": "500"}) as engine:
            m = engine.wait_for(r"ahci: held read tfd (\w+) pending (\d), the other vCPU advanced (\d+), "
                                r"sector 1 '(.*)'", 60)
            if engine.wait_exit(10) != 0 or "FAIL" in engine.output():
                vt.fail("the guest failed:\n%s" % engine.output())
    tfd, pending, advanced, text = m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)
    if tfd != "50" or text != "SECTOR ONE OF THE SATA DISK":
        vt.fail("the read ended with tfd %s and '%s'" % (tfd, text))
    if pending != 1:
        vt.fail("the PxCI write returned only once the read was done: a vCPU waited on the disk")
    if advanced < 100:
        vt.fail("the other vCPU counted only %d while the disk held the read" % advanced)
    print("ok: the other vCPU counted %d while the disk held a read" % advanced)


def case_i8042_reboot():
    """Without --no-reboot, the reset boots the machine again, as a PC's
    warm reset does: RAM keeps what the guest wrote (its boot count)."""
    with vt.Engine(["--kernel", guest("i8042"), "--memory", "64M"]) as engine:
        engine.wait_for(r"(?s)i8042: boot 1\r?\n.*i8042: resetting.*i8042: boot 2\r?\n.*i8042: selftest ok", 30)


def case_pci():
    """The guest enumerates bus 0 and finds the i440FX host bridge and the
    standard VGA, then the virtio disk after them."""
    with boot("pci", "--disk", vt.scratch_image()) as engine:
        engine.wait_for(r"pci: cf8 ok", 20)
        engine.wait_for(r"pci: 00:00\.0 8086:1237 class 060000 hdr 00", 20)
        engine.wait_for(r"pci: 00:02\.0 1234:1111 class 030000 hdr 00", 20)
        engine.wait_for(r"pci: 00:03\.0 1af4:1042 class 018000 hdr 00", 20)
        engine.wait_for(r"pci: 3 functions", 20)
        if engine.wait_exit(10) != 0:
            vt.fail("engine exit status is not 0")


def case_machine_ini():
    """A machine.ini with relative paths and flags that override it."""
    with tempfile.TemporaryDirectory() as tmp:
        os.symlink(guest("pci"), os.path.join(tmp, "guest.elf"))
        ini = os.path.join(tmp, "machine.ini")
        with open(ini, "w") as f:
            f.write("[machine]\nschema=1\nname=ini test\nmemory=64M\ncpus=1\n"
                    "[boot]\nkernel=guest.elf\n[devices]\nserial=stdio\n")
        with vt.Engine([ini, "--no-reboot", "--cpus", "2"]) as engine:
            engine.wait_for(r"pci: 00:00\.0 8086:1237", 20)
            if engine.wait_exit(10) != 0:
                vt.fail("engine exit status is not 0")


def case_serial_file():
    """--serial file:PATH writes the console to a file."""
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "com1.log")
        with boot("pci", "--serial", "file:" + log) as engine:
            if engine.wait_exit(20) != 0:
                vt.fail("engine exit status is not 0")
        with open(log) as f:
            text = f.read()
        if "pci: 00:00.0 8086:1237" not in text:
            vt.fail("serial log lacks the guest's output: %r" % text[-500:])


def case_acpi_power_off():
    """The guest writes SLP_TYP(S5)|SLP_EN to our ACPI PM block: the engine
    ends with 0 even without --no-reboot, and the guest ran once."""
    with vt.Engine(["--kernel", guest("pci"), "--memory", "64M"]) as engine:
        if engine.wait_exit(20) != 0:
            vt.fail("engine exit status is not 0")
        if engine.output().count("DONE") != 1:
            vt.fail("the guest ran %d times; a power-off must not reboot" % engine.output().count("DONE"))


def case_serial_socket():
    """--serial unix:PATH: a client connects, types, and reads the guest's replies."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "com1.sock")
        with boot("uart", "--serial", "unix:" + path) as engine:
            client = socket.socket(socket.AF_UNIX)
            for _ in range(100):
                try:
                    client.connect(path)
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                vt.fail("nothing listens on %s" % path)
            client.settimeout(20)
            time.sleep(0.5)  # let the guest enable its receive interrupt
            client.sendall(b"ping\n")
            received = b""
            while b"uart: PASS" not in received:
                chunk = client.recv(4096)
                if not chunk:
                    vt.fail("socket closed; got %r" % received)
                received += chunk
            client.close()
            if engine.wait_exit(20) != 0:
                vt.fail("engine exit status is not 0")


def case_smp():
    """Every vCPU starts: the guest sends INIT and STARTUP IPIs, each AP runs
    a real-mode trampoline and counts itself in."""
    for cpus in (2, 4):
        with boot("smp", "--cpus", str(cpus), "--append", "cpus=%d" % cpus) as engine:
            engine.wait_for(r"smp: %d CPUs up" % cpus, 30)
            if engine.wait_exit(20) != 0:
                vt.fail("engine exit status is not 0 with %d CPUs" % cpus)


def host_has_cx16():
    with open("/proc/cpuinfo") as f:
        return " cx16" in f.read()


def case_cpu_model():
    """--cpu host shows the host's features; host,-cx16 hides CMPXCHG16B;
    the logical processor count follows --cpus."""
    with boot("cpuid", "--cpus", "3") as engine:
        m = engine.wait_for(r"cpuid: cx16=(\d) hypervisor=(\d) apic=(\d+) logical=(\d+)", 20)
        if (int(m.group(1)), m.group(2), m.group(3), m.group(4)) != (int(host_has_cx16()), "1", "0", "3"):
            vt.fail("unexpected CPUID view: %s" % m.group(0))
    with boot("cpuid", "--cpu", "host,-cx16") as engine:
        engine.wait_for(r"cpuid: cx16=0 hypervisor=1 apic=0 logical=1", 20)


def pattern_byte(i):
    return (i * 13 + 7 + (i >> 9)) & 0xFF


def case_virtio_blk():
    """A pattern written, flushed and read back through virtio-blk is in the
    image byte for byte afterwards; the read-only disk refuses the write with
    VIRTIO_BLK_S_IOERR (1) and its image is untouched."""
    with tempfile.TemporaryDirectory() as tmp:
        rw, ro = os.path.join(tmp, "rw.img"), os.path.join(tmp, "ro.img")
        with open(rw, "wb") as f:
            f.truncate(1 << 20)
        with open(ro, "wb") as f:
            f.write(b"READONLY" + bytes(4088))
        with open(ro, "rb") as f:
            ro_before = f.read()
        with boot("virtio-blk", "--disk", rw + ",serial=vireo-disk0", "--disk", ro + ",ro") as engine:
            engine.wait_for(r"virtio-blk: disk 0 has 2048 sectors", 20)
            engine.wait_for(r"virtio-blk: wrote, flushed and read back 4096 bytes at sector 16", 20)
            engine.wait_for(r"virtio-blk: disk 0 id 'vireo-disk0' status 0", 10)
            engine.wait_for(r"virtio-blk: read-only disk write status 1", 10)
            engine.wait_for(r"virtio-blk: read-only disk reads 'READONLY' status 0", 10)
            if engine.wait_exit(20) != 0:
                vt.fail("engine did not end cleanly")
        with open(rw, "rb") as f:
            image = f.read()
        expected = bytes(pattern_byte(i) for i in range(4096))
        if image[16 * 512:16 * 512 + 4096] != expected:
            vt.fail("the image does not hold the pattern at sector 16")
        if image[:16 * 512] != bytes(16 * 512) or image[16 * 512 + 4096:] != bytes(len(image) - 16 * 512 - 4096):
            vt.fail("bytes outside the written range changed")
        with open(ro, "rb") as f:
            if f.read() != ro_before:
                vt.fail("the read-only image changed")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def case_virtio_net():
    """User networking: a DHCP lease, a file from the built-in TFTP server,
    and a TCP connection from the host through a forwarded port."""
    with tempfile.TemporaryDirectory() as tftp:
        text = b"Hello over TFTP from the Vireo host!\n" * 40  # three TFTP blocks
        with open(os.path.join(tftp, "hello.txt"), "wb") as f:
            f.write(text)
        port = free_port()
        net = "user,tftp=%s,hostfwd=tcp:127.0.0.1:%d-:22,mac=52:54:00:ab:cd:ef" % (tftp, port)
        with boot("virtio-net", "--net", net) as engine:
            engine.wait_for(r"virtio-net: mac 52:54:00:ab:cd:ef link 1", 20)
            engine.wait_for(r"virtio-net: lease address 10\.0\.2\.15 router 10\.0\.2\.2 dns 10\.0\.2\.3", 30)
            engine.wait_for(r"virtio-net: tftp hello\.txt: %d bytes, starting '%s'"
                            % (len(text), text[:32].decode()), 30)
            engine.wait_for(r"virtio-net: listening on port 22", 10)
            with socket.create_connection(("127.0.0.1", port), timeout=20) as conn:
                conn.sendall(b"ping\n")
                reply = conn.recv(100)
            if reply != b"pong\n":
                vt.fail("the guest answered %r through the forwarded port" % reply)
            engine.wait_for(r"virtio-net: tcp got 'ping'", 10)
            engine.wait_for(r"virtio-net: tcp closed", 20)
            if engine.wait_exit(20) != 0:
                vt.fail("engine did not end cleanly")


TAP = "vireotap0"


def case_virtio_net_tap():
    """The same guest on a tap device in a private network namespace, with
    dnsmasq as the DHCP and TFTP server and a TCP connection straight to the
    guest's address."""
    if os.environ.get("VIREO_IN_NETNS") != "1":
        if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("dnsmasq"):
            vt.skip("needs root, unshare and dnsmasq to make a tap in a private network namespace")
        env = dict(os.environ, VIREO_IN_NETNS="1")
        sys.exit(subprocess.run(["unshare", "--net", sys.executable, __file__, "virtio-net-tap"], env=env).returncode)
    with tempfile.TemporaryDirectory() as tmp:
        text = b"Hello over TFTP from dnsmasq!\n" * 30
        with open(os.path.join(tmp, "hello.txt"), "wb") as f:
            f.write(text)
        for cmd in (["ip", "link", "set", "lo", "up"], ["ip", "tuntap", "add", "dev", TAP, "mode", "tap"],
                    ["ip", "addr", "add", "10.0.2.2/24", "dev", TAP], ["ip", "link", "set", TAP, "up"]):
            subprocess.run(cmd, check=True)
        dnsmasq = subprocess.Popen(
            ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--port=0", "--interface=" + TAP,
             "--bind-interfaces", "--dhcp-range=10.0.2.15,10.0.2.15,255.255.255.0",
             "--dhcp-option=option:router,10.0.2.2", "--dhcp-option=option:dns-server,10.0.2.3",
             "--enable-tftp", "--tftp-root=" + tmp, "--user=root", "--pid-file=" + os.path.join(tmp, "pid"),
             "--dhcp-leasefile=" + os.path.join(tmp, "leases")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with boot("virtio-net", "--net", "tap,ifname=" + TAP) as engine:
                engine.wait_for(r"virtio-net: lease address 10\.0\.2\.15 router 10\.0\.2\.2 dns 10\.0\.2\.3", 30)
                engine.wait_for(r"virtio-net: tftp hello\.txt: %d bytes, starting '%s'"
                                % (len(text), text[:32].decode().replace("\n", ".")), 60)
                engine.wait_for(r"virtio-net: listening on port 22", 10)
                with socket.create_connection(("10.0.2.15", 22), timeout=20) as conn:
                    conn.sendall(b"ping\n")
                    if conn.recv(100) != b"pong\n":
                        vt.fail("the guest did not answer on the tap")
                engine.wait_for(r"virtio-net: tcp closed", 20)
                if engine.wait_exit(20) != 0:
                    vt.fail("engine did not end cleanly")
        finally:
            dnsmasq.terminate()
            dnsmasq.wait(10)


def rng_lines():
    with boot("virtio-rng", "--rng") as engine:
        m = engine.wait_for(r"virtio-rng: 32 bytes ([0-9a-f]{64})\r?\nvirtio-rng: 32 bytes ([0-9a-f]{64})", 20)
        lines = [m.group(1), m.group(2)]
        if engine.wait_exit(20) != 0:
            vt.fail("engine did not end cleanly")
    return lines


def case_virtio_rng():
    """Two requests, and two machines, never see the same bytes."""
    seen = rng_lines() + rng_lines()
    if len(set(seen)) != 4:
        vt.fail("virtio-rng repeated itself: %s" % seen)
    for line in seen:
        if len(set(line[i:i + 2] for i in range(0, 64, 2))) < 16:
            vt.fail("virtio-rng bytes look constant: %s" % line)


def resident_bytes(pid):
    """A process's resident memory, from /proc (proc(5): statm's second field, in pages)."""
    with open("/proc/%d/statm" % pid) as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def uses_asan(pid):
    """Whether the engine runs on AddressSanitizer's allocator (the build-asan
    run), whose redzones, quarantine and shadow memory are not the engine's."""
    with open("/proc/%d/maps" % pid) as f:
        return "libasan" in f.read()


GPU_BUDGET = 256 << 20   # VIRTIO_GPU_MAX_HOST_MEMORY
GPU_SLACK = 16 << 20     # the engine's own growth meanwhile (the I/O thread, malloc's arenas)


def case_virtio_gpu_flood():
    """Issue 13: a guest creating 1x1 virtio-gpu resources, each with 16384
    backing entries, until refused (tests/guest/virtio-gpu.c, "flood"): the
    refusal is VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY (0x1201, virtio 1.2
    5.7.6.8), and the engine's resident memory, read from /proc, grew by no
    more than the device's budget."""
    with boot("virtio-gpu", "--memory", "256M", "--gpu", "virtio", "--append", "flood") as engine:
        engine.wait_for(r"gpu: flood ready", 30)
        before = resident_bytes(engine.proc.pid)
        engine.send(b"g")
        m = engine.wait_for(r"gpu: flood refused resource (\d+) with (0x[0-9a-f]+)\r?\n|gpu: FAIL [^\r\n]*\r?\n", 120)
        grown = resident_bytes(engine.proc.pid) - before
        print("refused resource %s; the engine grew by %d KiB" % (m.group(1), grown >> 10))
        if m.group(1) is None:
            vt.fail("%s; the engine grew by %d MiB" % (m.group(0).strip(), grown >> 20))
        if m.group(2) != "0x1201":
            vt.fail("resource %s was refused with %s, expected ERR_OUT_OF_MEMORY (0x1201)" % m.group(1, 2))
        if grown > GPU_BUDGET + GPU_SLACK and not uses_asan(engine.proc.pid):
            vt.fail("the engine grew by %d MiB, more than the %d MiB budget" % (grown >> 20, GPU_BUDGET >> 20))
        engine.send(b"g")
        if engine.wait_exit(20) != 0:
            vt.fail("engine exit status is not 0")


CASES = {name[5:].replace("_", "-"): fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    vt.require_kvm()
    CASES[sys.argv[1]]()
    print("ok: %s" % sys.argv[1])
