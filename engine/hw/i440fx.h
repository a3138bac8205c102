/* The i440FX host bridge at 00:00.0 (Intel 82441FX PMC datasheet). */
#ifndef VIREO_HW_I440FX_H
#define VIREO_HW_I440FX_H

#include "hw/pci.h"

struct i440fx {
	struct pci_device pci;
};

int i440fx_init(struct i440fx *host, struct pci_bus *pci);

#endif
