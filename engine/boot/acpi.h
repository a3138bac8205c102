/* ACPI tables: RSDP, RSDT/XSDT, FADT + FACS, DSDT, MADT. One builder with
 * two outputs: direct boot links them at fixed addresses in guest RAM
 * (acpi_build); firmware boot hands the unlinked blobs and their link list
 * to the firmware through fw_cfg's table loader (boot/acpi_loader.h). */
#ifndef VIREO_BOOT_ACPI_H
#define VIREO_BOOT_ACPI_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/guest_mem.h"

struct acpi_config {
	unsigned ncpus;
	uint8_t ioapic_id;
	uint16_t pm_base;     /* hw/acpi_pm.h register block */
	uint8_t sci_irq;
	uint16_t level_irqs;  /* ISA IRQs (bit n: IRQ n) the MADT makes level, active high */
	uint16_t reset_port;  /* FADT RESET_REG: writing reset_value resets */
	uint8_t reset_value;
	const uint8_t *dsdt;  /* a whole DSDT as iasl compiled it (boot/dsdt.h) */
	size_t dsdt_size;
	uint32_t pci_hole_start; /* patched into the DSDT's PHLO; 0: the DSDT has none */
};

/* The tables live in two blobs, as QEMU's loader interface has them: the
 * RSDP, which must sit in the BIOS area where OSes scan for it, and every
 * other table. */
enum acpi_blob_id { ACPI_BLOB_RSDP, ACPI_BLOB_TABLES, ACPI_BLOB_COUNT };
#define ACPI_BLOB_RSDP_ALIGN 16
#define ACPI_BLOB_TABLES_ALIGN 64   /* the FACS must be 64-byte aligned (ACPI 6.4 §5.2.10) */

/* A fix-up of the blobs, applied in order once each blob has an address:
 * a pointer field holds an offset into `target` and gets the target blob's
 * address added; a checksum byte makes [start, start + length) sum to 0. */
struct acpi_link {
	enum { ACPI_LINK_POINTER, ACPI_LINK_CHECKSUM } kind;
	enum acpi_blob_id blob;    /* the blob holding the field */
	uint32_t offset;           /* of the pointer field or the checksum byte */
	enum acpi_blob_id target;  /* pointer: the blob pointed into */
	uint8_t size;              /* pointer: 4 or 8 bytes */
	uint32_t start, length;    /* checksum: the range summed */
};

struct acpi_tables {
	GByteArray *blobs[ACPI_BLOB_COUNT];
	GArray *links;             /* struct acpi_link */
};

/* Builds the unlinked tables. false (and nothing to clear) when the
 * config asks to patch a PCI hole into a DSDT without PHLO. */
bool acpi_tables_build(struct acpi_tables *tables, const struct acpi_config *cfg);
void acpi_tables_clear(struct acpi_tables *tables);

/* Direct boot: builds and links the tables at BOOT_ACPI_ADDR, the RSDP
 * first. Returns the RSDP address, 0 when guest RAM cannot hold them. */
uint64_t acpi_build(struct guest_mem *mem, const struct acpi_config *cfg);

#endif
