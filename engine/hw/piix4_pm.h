/* The PIIX4 power-management function at 00:01.3 (Intel 82371AB datasheet
 * §3.4): the PCI face of the ACPI PM block, which it places where the
 * firmware writes PMBA. */
#ifndef VIREO_HW_PIIX4_PM_H
#define VIREO_HW_PIIX4_PM_H

#include "core/device.h"
#include "hw/acpi_pm.h"
#include "hw/pci.h"

#define PIIX4_PM_SLOT 1
#define PIIX4_PM_FUNCTION 3

struct piix4_pm {
	struct pci_device pci;
	struct acpi_pm *pm;
};

/* pm must have been created with base 0; it decodes once the guest sets
 * PMBA and PMIOSE. Adds the function at 00:01.3. */
int piix4_pm_init(struct piix4_pm *fn, struct pci_bus *pci, struct acpi_pm *pm);

extern const struct device_ops piix4_pm_device_ops;

#endif
