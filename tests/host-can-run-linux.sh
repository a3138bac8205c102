#!/bin/sh
# Exits 0 when this host's KVM runs guest kernel code natively, so a full
# Linux boot can work; otherwise prints one line naming the limit, or the
# engine's last line when the probe could not run at all (unless -q), and
# exits 1. The probe is a tiny guest that executes int3 in kernel mode:
# hosts whose KVM emulates guest kernel code stop it with an internal error,
# or need the engine's instruction assist for it (engine/kvm/assist.h),
# which does not yet carry Linux to its shell.
top=$(cd "$(dirname "$0")/.." && pwd)
engine=${VIREO_ENGINE:-$top/build/engine/vireo-engine}
guest=${VIREO_GUEST_DIR:-$top/build/tests/guest}/probe-int3.elf
out=$(VIREO_ASSIST_STATS=1 timeout 20 "$engine" --kernel "$guest" --memory 64M --no-reboot --serial stdio </dev/null 2>&1)
status=$?
case "$out" in
*"assisted instructions:"*" int3 "*) ;;
*"probe: int3 ok"*) [ $status -eq 0 ] && exit 0 ;;
esac
[ "$1" = "-q" ] && exit 1
case "$out" in
*"assisted instructions:"*" int3 "*) echo "host KVM cannot run a full Linux kernel: it emulates guest kernel code (int3 at CPL0 needed the engine's instruction assist)" ;;
*"KVM internal error"*) echo "host KVM cannot run a full Linux kernel: int3 at CPL0 stops the guest (KVM internal error)" ;;
*) echo "the probe guest did not run: ${out##*
}" ;;
esac
exit 1
