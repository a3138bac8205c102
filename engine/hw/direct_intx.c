/* Direct boot's PCI INTx wiring. See direct_intx.h. */
#include "direct_intx.h"

void direct_intx_init(struct direct_intx *intx, struct irq_line gsis)
{
	for (unsigned pin = 0; pin < PC_PCI_INTX_GSIS; pin++) {
		struct irq_line out = { gsis.set_level, gsis.opaque, PC_PCI_INTX_FIRST_GSI + pin };
		shared_line_init(&intx->pins[pin], out);
	}
}

void direct_intx_destroy(struct direct_intx *intx)
{
	for (unsigned pin = 0; pin < PC_PCI_INTX_GSIS; pin++)
		shared_line_destroy(&intx->pins[pin]);
}

struct irq_line direct_intx_line(struct direct_intx *intx, unsigned slot)
{
	return shared_line_source(&intx->pins[slot % PC_PCI_INTX_GSIS], slot);
}
