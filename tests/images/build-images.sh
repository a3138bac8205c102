#!/usr/bin/env bash
# Builds the guest images the tests and the demo boot, from Debian packages
# only (apt-get download + dpkg-deb -x), into the folder given (a cache
# outside the source tree):
#   vmlinuz             Debian's kernel (the package linux-image-amd64 depends on)
#   vmlinux             the uncompressed ELF inside it, for PVH boot
#   initramfs.cpio.gz   busybox-static, tests/images/init and the kernel's virtio modules
#   kernel-version      what they were built from; a rebuild happens when it changes
set -euo pipefail

OUT=${1:?usage: build-images.sh OUTPUT_DIR}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
APPLETS="sh ash mount umount mkdir cat echo ls nproc free poweroff reboot setsid cttyhack uname dmesg sleep grep insmod head od sync ifconfig route wget nc"
# Debian builds virtio as modules; init loads them in this (dependency) order.
MODULES="drivers/virtio/virtio drivers/virtio/virtio_ring drivers/virtio/virtio_pci_modern_dev
	drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci drivers/block/virtio_blk
	drivers/char/hw_random/virtio-rng net/core/failover drivers/net/net_failover drivers/net/virtio_net"

kernel_package() {
	apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }'
}

pkg=$(kernel_package)
if [ -z "$pkg" ]; then
	apt-get update -qq
	pkg=$(kernel_package)
fi
[ -n "$pkg" ] || { echo "build-images: cannot find the kernel package linux-image-amd64 depends on" >&2; exit 1; }
version=$(apt-cache policy "$pkg" | awk '/Candidate:/ { print $2 }')
busybox_version=$(apt-cache policy busybox-static | awk '/Candidate:/ { print $2 }')
stamp="$pkg $version busybox-static $busybox_version init $(cat "$HERE/init" "$0" | sha256sum | cut -c1-16)"

if [ -f "$OUT/kernel-version" ] && [ "$(cat "$OUT/kernel-version")" = "$stamp" ] &&
	[ -s "$OUT/vmlinuz" ] && [ -s "$OUT/vmlinux" ] && [ -s "$OUT/initramfs.cpio.gz" ]; then
	exit 0
fi

mkdir -p "$OUT"
work=$(mktemp -d "$OUT/.build.XXXXXX")
chmod 755 "$work" # apt-get download fetches as the _apt user
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get download -qq "$pkg=$version" busybox-static >/dev/null
dpkg-deb -x linux-image-*.deb kernel
dpkg-deb -x busybox-static_*.deb busybox

cp kernel/boot/vmlinuz-* vmlinuz
python3 "$HERE/extract-vmlinux.py" vmlinuz vmlinux

mkdir -p root/bin root/dev root/proc root/sys root/etc
cp busybox/bin/busybox root/bin/busybox
for applet in $APPLETS; do ln -s busybox "root/bin/$applet"; done
install -m 755 "$HERE/init" root/init
mkdir -p root/lib/modules
for module in $MODULES; do
	cp kernel/lib/modules/*/kernel/"$module".ko root/lib/modules/
	echo "$(basename "$module").ko" >> root/lib/modules/order
done
echo 'export PS1="~ # "' > root/etc/profile
(cd root && find . | cpio -o -H newc --quiet | gzip -9) > initramfs.cpio.gz

mv vmlinuz vmlinux initramfs.cpio.gz "$OUT/"
echo "$stamp" > "$OUT/kernel-version"
echo "build-images: $OUT: vmlinuz, vmlinux, initramfs.cpio.gz from $pkg $version" >&2
