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
#   linux-install.iso   the same kind of image with tests/images/grub-linux-install.cfg and
#                       vmlinuz and initramfs.cpio.gz: GRUB (on the screen and on COM1) boots
#                       them, init loading the ATA, AHCI and CD drivers (vireo.ata); the
#                       tests copy it from the CD to a disk, which then boots the same way
#   NAME.version        what each ISO was built from
set -euo pipefail

mkdir -p "${1:?usage: build-images.sh OUTPUT_DIR}"
OUT=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
APPLETS="sh ash mount umount mkdir cat echo ls nproc free poweroff reboot setsid cttyhack uname dmesg sleep grep insmod head od sync dd ifconfig route wget nc"
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
# What a firmware boot from a CD or a disk needs, loaded by init only when
# the kernel command line says vireo.ata: the PIIX IDE and AHCI drivers, the
# CD (sr) and disk (sd) drivers and the SCSI layer under them, in dependency
# order from each module's "depends=" (sd_mod needs t10-pi, which needs the
# CRC modules; their crypto back-ends come first, as their "softdep=pre:" asks).
ATA_MODULES="drivers/scsi/scsi_common drivers/scsi/scsi_mod drivers/ata/libata drivers/ata/libahci
	drivers/ata/ahci drivers/ata/ata_piix drivers/cdrom/cdrom drivers/scsi/sr_mod
	crypto/crct10dif_common crypto/crct10dif_generic lib/crc-t10dif lib/crc64
	crypto/crc64_rocksoft_generic lib/crc64-rocksoft block/t10-pi drivers/scsi/sd_mod"
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

# build_grub_image IMAGE CFG [FILE...]: IMAGE in $OUT, a grub-mkrescue hybrid
# ISO with tests/images/CFG as its /boot/grub/grub.cfg and the FILEs of $OUT
# in its /boot; rebuilt when IMAGE.version (the GRUB packages, the hashes of
# CFG and the FILEs) changes.
build_grub_image() {
	local image=$1 cfg=$2 file grub_stamp tree
	shift 2
	grub_stamp="$(dpkg-query -W -f='${Package} ${Version} ' grub-pc-bin grub-common xorriso mtools)"
	grub_stamp+="cfg $(sha256sum < "$HERE/$cfg" | cut -c1-16)"
	for file in "$@"; do
		grub_stamp+=" $file $(sha256sum < "$OUT/$file" | cut -c1-16)"
	done
	if [ -f "$OUT/$image.version" ] && [ "$(cat "$OUT/$image.version")" = "$grub_stamp" ] &&
		[ -s "$OUT/$image" ]; then
		return
	fi
	tree=$(mktemp -d "$OUT/.grub.XXXXXX")
	mkdir -p "$tree/root/boot/grub"
	cp "$HERE/$cfg" "$tree/root/boot/grub/grub.cfg"
	for file in "$@"; do
		cp "$OUT/$file" "$tree/root/boot/"
	done
	# xorriso reports its progress on stderr: shown only when it fails
	if ! grub-mkrescue -o "$tree/$image" "$tree/root" 2> "$tree/log"; then
		cat "$tree/log" >&2
		rm -rf "$tree"
		exit 1
	fi
	mv "$tree/$image" "$OUT/$image"
	rm -rf "$tree"
	echo "$grub_stamp" > "$OUT/$image.version"
	echo "build-images: $OUT: $image from $grub_stamp" >&2
}

# vmlinuz, vmlinux and initramfs.cpio.gz, unless kernel-version says they are
# built from what is there now.
build_kernel_images() {
	if [ -f "$OUT/kernel-version" ] && [ "$(cat "$OUT/kernel-version")" = "$stamp" ] &&
		[ -s "$OUT/vmlinuz" ] && [ -s "$OUT/vmlinux" ] && [ -s "$OUT/initramfs.cpio.gz" ]; then
		return
	fi
	work=$(mktemp -d "$OUT/.build.XXXXXX")
	chmod 755 "$work" # apt-get download fetches as the _apt user
	trap 'rm -rf "$work"' EXIT
	(
		cd "$work"
		unpack_and_pack
	)
	rm -rf "$work"
	trap - EXIT
	echo "$stamp" > "$OUT/kernel-version"
	echo "build-images: $OUT: vmlinuz, vmlinux, initramfs.cpio.gz from $pkg $version" >&2
}

# install_modules LIST FILE: the modules of LIST into root/lib/modules, their
# names in FILE there, the order init loads them in.
install_modules() {
	local module
	for module in $1; do
		cp kernel/lib/modules/*/kernel/"$module".ko root/lib/modules/
		echo "$(basename "$module").ko" >> "root/lib/modules/$2"
	done
}

# In the current folder: Debian's kernel and busybox unpacked, vmlinux taken
# out of vmlinuz, the initramfs packed, the three moved to $OUT.
unpack_and_pack() {
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
	install_modules "$MODULES" order
	install_modules "$DESKTOP_MODULES" desktop-order
	install_modules "$ATA_MODULES" ata-order
	for program in $PROGRAMS; do
		gcc -std=c11 -D_DEFAULT_SOURCE -Wall -O2 -static -s -o "root/bin/$program" "$HERE/$program.c"
	done
	echo 'export PS1="~ # "' > root/etc/profile
	(cd root && find . | cpio -o -H newc --quiet | gzip -9) > initramfs.cpio.gz

	mv vmlinuz vmlinux initramfs.cpio.gz "$OUT/"
}

build_kernel_images
build_grub_image grub-rescue.iso grub.cfg
build_grub_image linux-install.iso grub-linux-install.cfg vmlinuz initramfs.cpio.gz
