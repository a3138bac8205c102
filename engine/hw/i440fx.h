/* The i440FX host bridge at 00:00.0 (Intel 82441FX PMC datasheet), with
 * the PAM registers that switch the BIOS area between ROM and shadow RAM
 * when a firmware boots. */
#ifndef VIREO_HW_I440FX_H
#define VIREO_HW_I440FX_H

#include "core/device.h"
#include "hw/pci.h"

/* PAM0-6: config 0x59-0x5F (82441FX datasheet §3.2.18). PAM0's high
 * nibble covers 0xF0000-0xFFFFF; PAM1-6 cover 0xC0000-0xEFFFF in 16 KiB
 * pieces, low nibble first. */
#define I440FX_PAM0 0x59
#define I440FX_PAM_REGS 7
#define I440FX_PAM_PIECES 13        /* piece 0: 0xF0000 (64 KiB); 1-12: 0xC0000 + 16 KiB steps */
#define I440FX_PAM_BASE 0xC0000u
#define I440FX_PAM_END  0x100000u

/* What a piece of the BIOS area shows the guest. */
enum pam_view {
	PAM_VIEW_ROM,            /* reads and writes go to the ROM or the PCI bus */
	PAM_VIEW_RAM_READ_ONLY,  /* reads from shadow RAM, writes dropped */
	PAM_VIEW_RAM,            /* shadow RAM, read/write */
};

/* How the host maps a piece (the engine: KVM slots; tests: a recorder).
 * Called with the PCI bus lock held. */
struct i440fx_pam_ops {
	void (*set_view)(void *opaque, unsigned piece, uint64_t gpa, uint64_t size, enum pam_view view);
};

struct i440fx {
	struct pci_device pci;
	const struct i440fx_pam_ops *pam_ops;  /* NULL: PAM registers read as 0 and ignore writes */
	void *pam_opaque;
	enum pam_view pam_view[I440FX_PAM_PIECES];
};

int i440fx_init(struct i440fx *host, struct pci_bus *pci);

/* Firmware boot: the PAM registers become writable and every piece starts
 * in the ROM view (their reset value, 0); each change reaches ops. Call
 * before vCPUs run. */
void i440fx_attach_pam(struct i440fx *host, const struct i440fx_pam_ops *ops, void *opaque);

extern const struct device_ops i440fx_device_ops;

#endif
