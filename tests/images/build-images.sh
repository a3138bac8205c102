#!/usr/bin/env bash
# Builds the guest images the tests and the demo boot, from Debian packages
# only (apt-get download + dpkg-deb -x), into the folder given (a cache
# outside the source tree):
#   vmlinuz             Debian's kernel (the package linux-image-amd64 depends on)
#   vmlinux             the uncompressed ELF inside it, for PVH boot
#   initramfs.cpio.gz   busybox-static, tests/images/init, the kernel's virtio modules,
#                       its DRM and input modules, and our fbdraw and evdump
#                       (tests/images/*.c, built static with the host's gcc)
#   kernel-version      what they were built from; a rebuild happens when it changes
#   grub-rescue.iso     a GRUB rescue image (grub-mkrescue from grub-pc-bin, xorriso, mtools)
#                       with tests/images/grub.cfg: a menu of two entries that waits. A hybrid:
#                       it boots as a CD (El Torito) and as a hard disk (its MBR)
#   grub-version        what it was built from
set -euo pipefail

OUT=${1:?usage: build-images.sh OUTPUT_DIR}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
APPLETS="sh ash mount umount mkdir cat echo ls nproc free poweroff reboot setsid cttyhack uname dmesg sleep grep insmod head od sync ifconfig route wget nc"
# Debian builds virtio as modules; init loads them in this (dependency) order
# (in 6.1.192 virtio needs virtio_ring: it calls virtio_break_device there).
MODULES="drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev
	drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci drivers/block/virtio_blk
	drivers/char/hw_random/virtio-rng net/core/failover drivers/net/net_failover drivers/net/virtio_net"
# What the screen and input tests need, loaded by init only when the kernel
# command line says vireo.desktop (so the other boots stay as they were):
# bochs-drm and virtio_gpu with their fbdev emulation, evdev and the PS/2
# mouse (Debian 6.1 builds drm, the helpers, ttm, evdev and psmouse as
# modules; i8042, atkbd, fbdev and fbcon are built in). Dependency order,
# from each module's "depends=" (virtio and virtio_ring come first above).
DESKTOP_MODULES="drivers/gpu/drm/drm drivers/gpu/drm/drm_kms_helper drivers/gpu/drm/ttm/ttm
	drivers/gpu/drm/drm_ttm_helper drivers/gpu/drm/drm_vram_helper drivers/gpu/drm/tiny/bochs
	drivers/gpu/drm/drm_shmem_helper drivers/virtio/virtio_dma_buf drivers/gpu/drm/virtio/virtio-gpu
	drivers/input/evdev drivers/input/mouse/psmouse"
# Our small test programs (tests/images/NAME.c), static so they need no libc in the image.
PROGRAMS="fbdraw evdump"

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
sources=$(cat "$HERE/init" "$0" $(for p in $PROGRAMS; do echo "$HERE/$p.c"; done) | sha256sum | cut -c1-16)
stamp="$pkg $version busybox-static $busybox_version sources $sources $(gcc -dumpfullversion)"

build_grub_image() {
	local grub_stamp
	grub_stamp="$(dpkg-query -W -f='${Package} ${Version} ' grub-pc-bin grub-common xorriso mtools)"
	grub_stamp+="cfg $(sha256sum < "$HERE/grub.cfg" | cut -c1-16)"
	if [ -f "$OUT/grub-version" ] && [ "$(cat "$OUT/grub-version")" = "$grub_stamp" ] &&
		[ -s "$OUT/grub-rescue.iso" ]; then
		return
	fi
	local tree
	tree=$(mktemp -d "$OUT/.grub.XXXXXX")
	mkdir -p "$tree/root/boot/grub"
	cp "$HERE/grub.cfg" "$tree/root/boot/grub/grub.cfg"
	# xorriso reports its progress on stderr: shown only when it fails
	if ! grub-mkrescue -o "$OUT/.grub-rescue.iso" "$tree/root" 2> "$tree/log"; then
		cat "$tree/log" >&2
		rm -rf "$tree"
		exit 1
	fi
	rm -rf "$tree"
	mv "$OUT/.grub-rescue.iso" "$OUT/grub-rescue.iso"
	echo "$grub_stamp" > "$OUT/grub-version"
	echo "build-images: $OUT: grub-rescue.iso from $grub_stamp" >&2
}

mkdir -p "$OUT"
build_grub_image

if [ -f "$OUT/kernel-version" ] && [ "$(cat "$OUT/kernel-version")" = "$stamp" ] &&
	[ -s "$OUT/vmlinuz" ] && [ -s "$OUT/vmlinux" ] && [ -s "$OUT/initramfs.cpio.gz" ]; then
	exit 0
fi

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
for module in $DESKTOP_MODULES; do
	cp kernel/lib/modules/*/kernel/"$module".ko root/lib/modules/
	echo "$(basename "$module").ko" >> root/lib/modules/desktop-order
done
for program in $PROGRAMS; do
	gcc -std=c11 -D_DEFAULT_SOURCE -Wall -O2 -static -s -o "root/bin/$program" "$HERE/$program.c"
done
echo 'export PS1="~ # "' > root/etc/profile
(cd root && find . | cpio -o -H newc --quiet | gzip -9) > initramfs.cpio.gz

mv vmlinuz vmlinux initramfs.cpio.gz "$OUT/"
echo "$stamp" > "$OUT/kernel-version"
echo "build-images: $OUT: vmlinuz, vmlinux, initramfs.cpio.gz from $pkg $version" >&2
