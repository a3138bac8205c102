/* The firmware ROM and the i440FX PAM pieces on KVM slots: the BIOS image
 * read-only just below 4 GiB, its last 128 KiB at 0xE0000 wherever PAM shows
 * ROM there, and shadow RAM (read-only or read/write) where PAM says so. */
#ifndef VIREO_BOARD_PAM_HOST_H
#define VIREO_BOARD_PAM_HOST_H

#include "hw/i440fx.h"
#include "kvm/vm.h"

struct pam_host {
	struct vm *vm;
	const uint8_t *rom;
	uint64_t rom_size;
};

/* Maps the ROM at 4 GiB - rom_size and takes the BIOS area out of the RAM
 * slots (vm_release_legacy_window). Returns 0 or -errno. */
int pam_host_init(struct pam_host *host, struct vm *vm, const uint8_t *rom, uint64_t rom_size);

extern const struct i440fx_pam_ops pam_host_kvm_ops;  /* opaque: struct pam_host */

#endif
