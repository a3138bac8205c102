/* Firmware ROM and PAM pieces on KVM slots. See pam_host.h. */
#include "pam_host.h"

#include <errno.h>
#include <stdio.h>

#define FIRMWARE_TOP (1ull << 32)
#define LOW_ALIAS_BASE 0xE0000ull   /* the ROM shows below 1 MiB from here up */
#define EXTRA_SLOT_ROM 0
#define EXTRA_SLOT_PIECE(p) (1 + (p))

int pam_host_init(struct pam_host *host, struct vm *vm, const uint8_t *rom, uint64_t rom_size)
{
	host->vm = vm;
	host->rom = rom;
	host->rom_size = rom_size;
	if (rom_size < PC_LEGACY_END - LOW_ALIAS_BASE)
		return -EINVAL;
	int err = vm_set_extra_slot(vm, EXTRA_SLOT_ROM, FIRMWARE_TOP - rom_size, rom_size, rom, true);
	return err ? err : vm_release_legacy_window(vm);
}

static void set_view(void *opaque, unsigned piece, uint64_t gpa, uint64_t size, enum pam_view view)
{
	struct pam_host *host = opaque;
	const uint8_t *hva = host->vm->ram + gpa;
	bool read_only = view != PAM_VIEW_RAM;
	if (view == PAM_VIEW_ROM) {
		/* Below 0xE0000 the ROM view is the PCI bus (option ROMs): nothing. */
		hva = gpa >= LOW_ALIAS_BASE ? host->rom + host->rom_size - (PC_LEGACY_END - gpa) : NULL;
		if (!hva)
			size = 0;
	}
	int err = vm_set_extra_slot(host->vm, EXTRA_SLOT_PIECE(piece), gpa, size, hva, read_only);
	if (err)
		fprintf(stderr, "vireo-engine: cannot remap 0x%llx (PAM): %s\n", (unsigned long long)gpa,
			g_strerror(-err));
}

const struct i440fx_pam_ops pam_host_kvm_ops = { set_view };
