/* Intel MultiProcessor Specification 1.4 tables, for guests without ACPI. */
#ifndef VIREO_BOOT_MPTABLE_H
#define VIREO_BOOT_MPTABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/guest_mem.h"

/* Writes the floating pointer and configuration table at BOOT_MPTABLE_ADDR.
 * False when guest RAM cannot hold them. */
bool mptable_build(struct guest_mem *mem, unsigned ncpus, uint8_t ioapic_id, uint8_t sci_irq);

#endif
