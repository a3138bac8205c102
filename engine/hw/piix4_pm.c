/* PIIX4 PM, 8086:7113 (82371AB datasheet §3.4, register names from it).
 * PMBA (0x40, bits 15:6) places the 64-port ACPI PM block, decoded while
 * PMREGMISC.PMIOSE (0x80 bit 0) is set. DEVACTB byte 0x5B has APMC_EN
 * preset, as QEMU has without SMM: SeaBIOS then leaves SMM alone instead of
 * waiting forever for an SMI handler (pc-platform.md §3.3). DEVRESB byte
 * 0x67 says COM1 is decoded, which SeaBIOS's own DSDT reads (ours, in
 * boot/asl/dsdt_pc.asl, lists COM1 outright). SMBus (SMBBA, SMBHSTCFG) is
 * storage only: there is no SMBus controller. */
#include "piix4_pm.h"

#include "core/bytes.h"
#include "core/pc_map.h"

#define PIIX4_PM_VENDOR 0x8086
#define PIIX4_PM_DEVICE 0x7113
#define PIIX4_PM_REVISION 0x03
#define PCI_CLASS_BRIDGE_OTHER 0x068000
#define PMBA 0x40
#define PMBA_IO_SPACE 0x1           /* reads as 1: an I/O base */
#define PMBA_MASK 0xFFC0u
#define DEVACTB_APMC 0x5B
#define APMC_EN 0x02
#define DEVRESB_SERIAL 0x67
#define DEVRESB_COM1_DECODE 0x08
#define PMREGMISC 0x80
#define PMIOSE 0x01
#define SMBBA 0x90
#define SMBHSTCFG 0xD2
#define SCI_PIN_A 0x01

static void update_pm_base(struct piix4_pm *fn)
{
	const uint8_t *config = fn->pci.config;
	uint16_t base = (uint16_t)(get_le32(config + PMBA) & PMBA_MASK);
	acpi_pm_relocate(fn->pm, (config[PMREGMISC] & PMIOSE) ? base : 0);
}

static bool touches(unsigned reg, unsigned size, unsigned start, unsigned len)
{
	return reg < start + len && reg + size > start;
}

static void config_written(void *opaque, unsigned reg, unsigned size)
{
	struct piix4_pm *fn = opaque;
	if (touches(reg, size, PMBA, 4) || touches(reg, size, PMREGMISC, 1))
		update_pm_base(fn);
}

static const struct pci_device_hooks piix4_pm_hooks = { .config_written = config_written };

int piix4_pm_init(struct piix4_pm *fn, struct pci_bus *pci, struct acpi_pm *pm)
{
	struct pci_device *dev = &fn->pci;
	pci_device_init(dev, PIIX4_PM_VENDOR, PIIX4_PM_DEVICE, PCI_CLASS_BRIDGE_OTHER, PIIX4_PM_REVISION);
	fn->pm = pm;
	dev->config[PCI_INTERRUPT_PIN] = SCI_PIN_A;
	dev->config[PCI_INTERRUPT_LINE] = PC_IRQ_SCI;
	dev->config[PMBA] = PMBA_IO_SPACE;
	put_le32(dev->wmask + PMBA, PMBA_MASK);
	dev->config[DEVACTB_APMC] = APMC_EN;
	dev->config[DEVRESB_SERIAL] = DEVRESB_COM1_DECODE;
	dev->wmask[PMREGMISC] = PMIOSE;
	put_le32(dev->wmask + SMBBA, 0xFFF1u);  /* base (16 ports) and enable */
	dev->wmask[SMBHSTCFG] = 0x0F;
	dev->hooks = &piix4_pm_hooks;
	dev->hooks_opaque = fn;
	return pci_bus_add(pci, dev, PIIX4_PM_SLOT, PIIX4_PM_FUNCTION);
}

/* --- device object (core/device.h) ----------------------------------- */

/* PMBA and PMIOSE come back with config space and place the PM block. */
static void piix4_pm_reset(void *opaque)
{
	struct piix4_pm *fn = opaque;
	pci_device_reset(&fn->pci);
	update_pm_base(fn);
}

static bool piix4_pm_load(void *opaque, struct state_reader *r)
{
	struct piix4_pm *fn = opaque;
	if (!pci_device_load(&fn->pci, r))
		return false;
	update_pm_base(fn);
	return true;
}

const struct device_ops piix4_pm_device_ops = {
	"piix4-pm", 1, piix4_pm_reset, NULL, pci_function_save, piix4_pm_load, pci_function_claims,
};
