/* The i440FX PCI host bridge, 8086:1237, as SeaBIOS, OVMF and Linux expect
 * it at 00:00.0 on a "pc" machine (shared/pc-platform.md §3.1). PAM and SMRAM
 * registers arrive with firmware boot. */
#include "i440fx.h"

#define I440FX_VENDOR 0x8086
#define I440FX_DEVICE 0x1237
#define I440FX_REVISION 0x02
#define PCI_CLASS_BRIDGE_HOST 0x060000
#define SUBSYSTEM_VENDOR 0x1AF4 /* Red Hat, as QEMU's "pc": guests' quirk tables key on it */
#define SUBSYSTEM_DEVICE 0x1100

int i440fx_init(struct i440fx *host, struct pci_bus *pci)
{
	struct pci_device *dev = &host->pci;
	pci_device_init(dev, I440FX_VENDOR, I440FX_DEVICE, PCI_CLASS_BRIDGE_HOST, I440FX_REVISION);
	pci_config_set16(dev, PCI_SUBSYSTEM_VENDOR_ID, SUBSYSTEM_VENDOR);
	pci_config_set16(dev, PCI_SUBSYSTEM_ID, SUBSYSTEM_DEVICE);
	return pci_bus_add(pci, dev, 0, 0);
}
