/* The PIIX3 PCI-to-ISA bridge at 00:01.0 (Intel 82371SB datasheet) as a
 * firmware sees it: its identity and the PIRQ route control registers that
 * decide which ISA IRQ each PCI interrupt line (PIRQA-D) raises. */
#ifndef VIREO_HW_PIIX3_H
#define VIREO_HW_PIIX3_H

#include <glib.h>

#include "core/device.h"
#include "core/irq.h"
#include "core/shared_line.h"
#include "hw/pci.h"

#define PIIX3_SLOT 1
#define PIIX3_PIRQS 4

struct piix3 {
	struct pci_device pci;
	struct shared_line pirqs[PIIX3_PIRQS]; /* each the OR of the slots wired to it */
	GMutex lock;                   /* pirq_levels and routes */
	bool pirq_levels[PIIX3_PIRQS];
	uint8_t routes[PIIX3_PIRQS];   /* the IRQ each PIRQ drives now, or 0 */
	struct irq_line isa;       /* set_level/opaque reach the ISA IRQs; gsi is unused */
};

/* isa raises ISA IRQ n as GSI n. Adds the bridge to the bus at 00:01.0. */
int piix3_init(struct piix3 *isa, struct pci_bus *pci, struct irq_line isa_irqs);
void piix3_destroy(struct piix3 *isa);

extern const struct device_ops piix3_device_ops;

/* The INTA# line of the device in `slot`, wired as on a PC board: slot S
 * pin A reaches PIRQ (S - 1) & 3 (pc-platform.md §3.2). */
struct irq_line piix3_intx_line(struct piix3 *isa, unsigned slot);

#endif
