/* ACPI tables for direct boot: RSDP, RSDT/XSDT, FADT + FACS, DSDT, MADT. */
#ifndef VIREO_BOOT_ACPI_H
#define VIREO_BOOT_ACPI_H

#include <stdint.h>

#include "kvm/guest_mem.h"

struct acpi_config {
	unsigned ncpus;
	uint8_t ioapic_id;
	uint16_t pm_base;     /* hw/acpi_pm.h register block */
	uint8_t sci_irq;
	uint16_t reset_port;  /* FADT RESET_REG: writing reset_value resets */
	uint8_t reset_value;
};

/* Writes the tables at BOOT_ACPI_ADDR; returns the RSDP address, 0 when
 * guest RAM cannot hold them. */
uint64_t acpi_build(struct guest_mem *mem, const struct acpi_config *cfg);

#endif
