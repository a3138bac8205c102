/* A level-triggered interrupt line shared by several sources (PCI INTx
 * wired to one IOAPIC pin or PIRQ): its level is the OR of theirs, so one
 * source lowering its line never drops another's pending interrupt.
 *
 * Each source gets its own struct irq_line, and devices drive it with
 * irq_line_set as any line. Sources are numbered 0-31 (a PCI slot number
 * does). Any thread may set a source: vCPU threads and the I/O thread do. */
#ifndef VIREO_CORE_SHARED_LINE_H
#define VIREO_CORE_SHARED_LINE_H

#include <glib.h>
#include <stdint.h>

#include "core/irq.h"

#define SHARED_LINE_SOURCES 32

struct shared_line {
	GMutex lock;        /* asserted, and the order in which `out` sees levels */
	uint32_t asserted;  /* bit n: source n holds the line high */
	struct irq_line out;
};

/* `out` is driven with the OR of the sources, each time one is set. */
void shared_line_init(struct shared_line *line, struct irq_line out);
void shared_line_destroy(struct shared_line *line);

/* Source `source` (< SHARED_LINE_SOURCES) of the line. */
struct irq_line shared_line_source(struct shared_line *line, unsigned source);

/* The sources holding the line high (bit n: source n), to save; and all of
 * them set at once, as a loaded state says, `out` driven with their OR. */
uint32_t shared_line_asserted(struct shared_line *line);
void shared_line_restore(struct shared_line *line, uint32_t asserted);

#endif
