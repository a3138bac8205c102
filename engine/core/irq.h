/* An interrupt line as a device sees it: one helper to raise or lower it.
 *
 * The engine wires lines to KVM's in-kernel irqchip (KVM_IRQ_LINE on a GSI);
 * register-level tests wire them to a recorder. Devices never call KVM. */
#ifndef VIREO_CORE_IRQ_H
#define VIREO_CORE_IRQ_H

#include <stdbool.h>

struct irq_line {
	void (*set_level)(void *opaque, unsigned gsi, bool level);
	void *opaque;
	unsigned gsi;
};

static inline void irq_line_set(const struct irq_line *line, bool level)
{
	if (line->set_level)
		line->set_level(line->opaque, line->gsi, level);
}

/* An edge for edge-triggered ISA devices (i8042, RTC): the PIC and IOAPIC
 * latch the rising edge. */
static inline void irq_line_pulse(const struct irq_line *line)
{
	irq_line_set(line, true);
	irq_line_set(line, false);
}

#endif
