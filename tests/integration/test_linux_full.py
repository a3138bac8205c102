#!/usr/bin/env python3
"""Debian's kernel and our busybox initramfs to a shell. Cases:
  shell        the prompt, nproc, free memory, a clean power-off
  virtio-disk  a line written to /dev/vda survives a power-off and a second boot,
               and is in the host image
  virtio-rng   /dev/hwrng is virtio_rng and gives bytes
  virtio-net   eth0 on user networking fetches a file from a web server on the
               host (host-loopback=on) and answers on a forwarded port
Needs a host whose KVM runs guest kernel code natively (VT-x/AMD-V); elsewhere
it skips with one line naming the limit. Usage: test_linux_full.py CASE"""
import http.server
import os
import socket
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(__file__))
import vireo_test as vt

PROMPT = r"~ # "


def boot(*extra):
    images = vt.images_dir()
    args = ["--kernel", os.path.join(images, "vmlinuz"),
            "--initrd", os.path.join(images, "initramfs.cpio.gz"),
            "--append", "console=ttyS0 panic=-1", "--memory", "1G", "--cpus", "2", *extra]
    return vt.Engine(args)


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


CASES = {name[5:].replace("_", "-"): fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    if not vt.host_can_run_linux():
        vt.skip("host KVM cannot run a full Linux kernel (guest kernel code is emulated; "
                "int3 at CPL0 stops the guest)")
    CASES[sys.argv[1]]()
    print("ok: %s" % sys.argv[1])
