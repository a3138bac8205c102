/* The i440FX PCI host bridge, 8086:1237, as SeaBIOS, OVMF and Linux expect
 * it at 00:00.0 on a "pc" machine (shared/pc-platform.md §3.1), and its PAM
 * registers (§1.1). SMRAM (0x72) reads its reset value and stays closed:
 * there is no SMM. */
#include "i440fx.h"

#include <string.h>

#define I440FX_VENDOR 0x8086
#define I440FX_DEVICE 0x1237
#define I440FX_REVISION 0x02
#define PCI_CLASS_BRIDGE_HOST 0x060000
#define SUBSYSTEM_VENDOR 0x1AF4 /* Red Hat, as QEMU's "pc": guests' quirk tables key on it */
#define SUBSYSTEM_DEVICE 0x1100
#define I440FX_SMRAM 0x72
#define SMRAM_RESET 0x02        /* C_BASE_SEG: SMRAM would sit at 0xA0000 */

/* PAM nibble bits: read enable, write enable. A write-only piece (WE
 * alone) cannot be a KVM slot; it is shown as ROM, writes dropped. */
#define PAM_RE 0x1
#define PAM_WE 0x2
#define PAM_NIBBLE_MASK 0x33    /* bits 7:6 and 3:2 are reserved */
#define PAM_PIECE_SIZE 0x4000u
#define PAM_TOP_SIZE 0x10000u

static enum pam_view nibble_view(uint8_t nibble)
{
	if ((nibble & (PAM_RE | PAM_WE)) == (PAM_RE | PAM_WE))
		return PAM_VIEW_RAM;
	return nibble & PAM_RE ? PAM_VIEW_RAM_READ_ONLY : PAM_VIEW_ROM;
}

static void piece_range(unsigned piece, uint64_t *gpa, uint64_t *size)
{
	*gpa = piece ? I440FX_PAM_BASE + (piece - 1) * PAM_PIECE_SIZE : I440FX_PAM_END - PAM_TOP_SIZE;
	*size = piece ? PAM_PIECE_SIZE : PAM_TOP_SIZE;
}

static uint8_t piece_nibble(const struct i440fx *host, unsigned piece)
{
	if (piece == 0)
		return host->pci.config[I440FX_PAM0] >> 4;
	uint8_t reg = host->pci.config[I440FX_PAM0 + 1 + (piece - 1) / 2];
	return (piece - 1) % 2 ? reg >> 4 : reg & 0xF;
}

/* Tells the host about every piece whose view differs from what it has
 * (all of them when `all`). */
static void apply_pam(struct i440fx *host, bool all)
{
	for (unsigned piece = 0; piece < I440FX_PAM_PIECES; piece++) {
		enum pam_view view = nibble_view(piece_nibble(host, piece));
		if (!all && view == host->pam_view[piece])
			continue;
		uint64_t gpa, size;
		piece_range(piece, &gpa, &size);
		host->pam_view[piece] = view;
		host->pam_ops->set_view(host->pam_opaque, piece, gpa, size, view);
	}
}

static void config_written(void *opaque, unsigned reg, unsigned size)
{
	struct i440fx *host = opaque;
	if (reg < I440FX_PAM0 + I440FX_PAM_REGS && reg + size > I440FX_PAM0)
		apply_pam(host, false);
}

static const struct pci_device_hooks i440fx_hooks = { .config_written = config_written };

int i440fx_init(struct i440fx *host, struct pci_bus *pci)
{
	struct pci_device *dev = &host->pci;
	memset(host, 0, sizeof(*host));
	pci_device_init(dev, I440FX_VENDOR, I440FX_DEVICE, PCI_CLASS_BRIDGE_HOST, I440FX_REVISION);
	pci_config_set16(dev, PCI_SUBSYSTEM_VENDOR_ID, SUBSYSTEM_VENDOR);
	pci_config_set16(dev, PCI_SUBSYSTEM_ID, SUBSYSTEM_DEVICE);
	return pci_bus_add(pci, dev, 0, 0);
}

void i440fx_attach_pam(struct i440fx *host, const struct i440fx_pam_ops *ops, void *opaque)
{
	struct pci_device *dev = &host->pci;
	host->pam_ops = ops;
	host->pam_opaque = opaque;
	dev->config[I440FX_SMRAM] = SMRAM_RESET;
	for (unsigned i = 0; i < I440FX_PAM_REGS; i++) {
		dev->config[I440FX_PAM0 + i] = 0;
		dev->wmask[I440FX_PAM0 + i] = i ? PAM_NIBBLE_MASK : PAM_NIBBLE_MASK & 0xF0;
	}
	dev->hooks = &i440fx_hooks;
	dev->hooks_opaque = host;
	apply_pam(host, true);
}

/* --- device object (core/device.h) ----------------------------------- */

static void i440fx_reset(void *opaque)
{
	struct i440fx *host = opaque;
	pci_device_reset(&host->pci);
	if (host->pam_ops)
		apply_pam(host, false);
}

static bool i440fx_load(void *opaque, struct state_reader *r)
{
	struct i440fx *host = opaque;
	if (!pci_device_load(&host->pci, r))
		return false;
	if (host->pam_ops)
		apply_pam(host, false);
	return true;
}

const struct device_ops i440fx_device_ops = {
	"i440fx", 1, i440fx_reset, NULL, pci_function_save, i440fx_load, pci_function_claims,
};
