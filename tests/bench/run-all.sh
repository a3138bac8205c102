#!/bin/sh
# Runs every benchmark (never part of the test suite). Needs ./setup.sh build
# and images, and Debian's qemu-system-x86 for the side-by-side figures.
set -e
here=$(dirname "$0")
command -v qemu-system-x86_64 >/dev/null || apt-get install -y -qq qemu-system-x86 >/dev/null
python3 "$here/exit-rate.py" "$@"
python3 "$here/boot-time.py" "$@"
python3 "$here/firmware-boot.py" --runs 5
python3 "$here/vga-text-writes.py" --runs 5
python3 "$here/iso-boot.py" --runs 5
python3 "$here/virtio-blk.py" --runs 5
python3 "$here/ahci-disks.py" --runs 5
python3 "$here/vnc-idle.py"
python3 "$here/vnc-latency.py" --runs 5
python3 "$here/vnc-redraw-bytes.py" --runs 5
