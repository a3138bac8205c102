/* PCI interrupt wiring of a direct boot (no firmware, so no PIIX3 PIRQ
 * routing to program): the INTA# of the device in slot S drives IOAPIC pin
 * 16 + S % 8. Slots that land on one pin (2 and 10; 7, 15 and 31) share a
 * level-triggered line whose level is the OR of theirs. */
#ifndef VIREO_HW_DIRECT_INTX_H
#define VIREO_HW_DIRECT_INTX_H

#include "core/irq.h"
#include "core/pc_map.h"
#include "core/shared_line.h"

struct direct_intx {
	struct shared_line pins[PC_PCI_INTX_GSIS];
};

/* gsis reaches the IOAPIC: its set_level/opaque raise GSI n; its gsi is unused. */
void direct_intx_init(struct direct_intx *intx, struct irq_line gsis);
void direct_intx_destroy(struct direct_intx *intx);

/* The INTA# line of the device in `slot` (< 32). */
struct irq_line direct_intx_line(struct direct_intx *intx, unsigned slot);

#endif
