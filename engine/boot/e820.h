/* The guest's physical memory map as firmware reports it (ACPI "E820"). */
#ifndef VIREO_BOOT_E820_H
#define VIREO_BOOT_E820_H

#include <stdint.h>

#define E820_RAM      1
#define E820_RESERVED 2
#define E820_MAX_ENTRIES 8

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

struct e820_table {
	struct e820_entry entries[E820_MAX_ENTRIES];
	unsigned count;
};

/* RAM below the EBDA, the reserved EBDA and BIOS area, RAM from 1 MiB to the
 * end of low RAM, KVM's identity-map/TSS pages, and RAM above 4 GiB. */
void e820_build(struct e820_table *table, uint64_t low_ram_size, uint64_t high_ram_size);

/* What firmware is told (fw_cfg etc/e820): all of low RAM from 0, KVM's
 * identity-map/TSS pages and RAM above 4 GiB. The firmware reserves its own
 * areas (EBDA, BIOS) in the map it gives the OS. */
void e820_build_firmware(struct e820_table *table, uint64_t low_ram_size, uint64_t high_ram_size);

/* The highest RAM address + 1 below 4 GiB that [addr, addr+len) can end at. */
uint64_t e820_low_ram_top(const struct e820_table *table);

#endif
