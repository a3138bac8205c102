#!/usr/bin/env bash
# Vireo's set-up script for Debian 12, run as root:
#   ./setup.sh run    install, build, open the app with a demo machine (on a
#                     desktop), else boot the demo machine on this terminal
#   ./setup.sh test   install, build, run every test; the last line is "N passed, N failed, N skipped"
# and the steps on their own: deps, images, build, demo (adds the demo
# machines to the app's library). Each step is idempotent and quiet when
# there is nothing to do.
set -euo pipefail

# Debian packages the build, the tests and the guest images need.
PACKAGES=(
	build-essential meson ninja-build pkg-config libglib2.0-dev
	python3 util-linux binutils acpica-tools seabios
	busybox-static cpio gzip xz-utils zstd
	clang libclang-rt-14-dev
	console-data libslirp-dev libseccomp-dev libvncserver-dev zlib1g-dev xorriso
	iproute2 dnsmasq-base
	grub-pc-bin grub-common xorriso mtools
	libsdl2-dev xvfb x11-apps x11-utils xdotool
	libgtk-3-dev libgtk-vnc-2.0-dev gettext desktop-file-utils appstream libglib2.0-bin flatpak-builder
	at-spi2-core dbus-daemon python3-gi gir1.2-atspi-2.0 gir1.2-gtk-3.0 fonts-wqy-microhei
)

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${VIREO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vireo}
IMAGES=$CACHE/images
export VIREO_IMAGES=$IMAGES

say() { echo "setup: $*" >&2; }

# The demo machines, defined once: our demo disk through SeaBIOS (everywhere), and where
# this host's KVM can boot Linux, Debian's kernel with a busybox shell.
DEMO=(--name Demo --firmware bios --disk "$TOP/build/tests/guest/boot-demo.img,ro" --memory 64M)
DEBIAN_DEMO=(--name "Debian demo" --kernel "$IMAGES/vmlinuz" --initrd "$IMAGES/initramfs.cpio.gz"
	--append "console=ttyS0 quiet" --memory 1G --cpus 2 --net user --rng)

deps() {
	local missing=()
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

images() {
	"$TOP/tests/images/build-images.sh" "$IMAGES"
}

build() {
	cd "$TOP"
	[ -f build/build.ninja ] || meson setup build --buildtype=debugoptimized >/dev/null
	ninja -C build >/dev/null || ninja -C build
	if [ ! -f build-asan/build.ninja ]; then
		meson setup build-asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
	fi
	ninja -C build-asan >/dev/null || ninja -C build-asan
	if [ ! -f build-fuzz/build.ninja ]; then
		CC=clang meson setup build-fuzz --buildtype=debugoptimized -Dfuzzing=true \
			-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
	fi
	ninja -C build-fuzz >/dev/null || ninja -C build-fuzz
}

# Adds the demo machines to the app's library, unless it has them already.
demo() {
	cd "$TOP"
	build/engine/vireo-engine "${DEMO[@]}" --display sdl --add-to-library >/dev/null
	if tests/host-can-run-linux.sh -q </dev/null; then
		build/engine/vireo-engine "${DEBIAN_DEMO[@]}" --display sdl --add-to-library >/dev/null
	fi
}

run() {
	# Keys typed while setting up belong to the guest, not to apt or ninja.
	{ deps && images && build; } </dev/null
	cd "$TOP"
	# On a desktop: the app, with the demo machines ready to start.
	if [ -n "${DISPLAY:-}" ]; then
		demo </dev/null
		say "opening the app: select \"Demo\" and press Enter to start it"
		exec build/app/vireo
	fi
	# Otherwise the engine on this terminal, its screen on VNC.
	local display=vnc=127.0.0.1:5900
	say "the screen is on VNC at 127.0.0.1:5900 (e.g. vncviewer 127.0.0.1:5900)"
	if tests/host-can-run-linux.sh </dev/null; then
		say "booting Debian's kernel with a busybox shell ('poweroff -f' ends it)"
		exec build/engine/vireo-engine "${DEBIAN_DEMO[@]}" --display "$display"
	fi
	say "booting our demo disk through SeaBIOS instead (Esc on its screen ends it)"
	exec build/engine/vireo-engine "${DEMO[@]}" --display "$display"
}

run_tests() {
	local status=0
	deps && images && build || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
	cd "$TOP"
	rm -f build*/meson-logs/testlog.json
	meson test -C build --print-errorlogs --num-processes 2 || status=1
	# The sanitizer build also runs the engine itself on our test guests and bad input.
	meson test -C build-asan --suite unit --suite guest --suite display --suite control --suite firmware --suite bad-input --suite sandbox --print-errorlogs --num-processes 2 || status=1
	# libFuzzer on the devices, the instruction assist, the ISO reader, the VNC server and machine.ini, 60 s per target, under ASan/UBSan.
	meson test -C build-fuzz --suite fuzz --print-errorlogs || status=1
	python3 tests/summary.py build/meson-logs/testlog.json build-asan/meson-logs/testlog.json \
		build-fuzz/meson-logs/testlog.json || status=1
	exit $status
}

case "${1:-}" in
deps) deps ;;
images) deps && images ;;
build) deps && build ;;
demo) demo ;;
run) run ;;
test) run_tests ;;
*)
	echo "usage: $0 run|test|deps|images|build|demo" >&2
	exit 2
	;;
esac
