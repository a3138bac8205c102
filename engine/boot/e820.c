/* The guest's physical memory map. See e820.h. */
#include "e820.h"

#include "boot/layout.h"
#include "kvm/vm.h"

static void add(struct e820_table *t, uint64_t addr, uint64_t size, uint32_t type)
{
	t->entries[t->count++] = (struct e820_entry){ addr, size, type };
}

/* What both maps end with: KVM's pages below 4 GiB and the high RAM. */
static void add_top(struct e820_table *t, uint64_t high_ram_size)
{
	add(t, PC_KVM_IDENTITY_MAP_ADDR, 0x4000, E820_RESERVED);
	if (high_ram_size)
		add(t, PC_HIGH_RAM_BASE, high_ram_size, E820_RAM);
}

void e820_build(struct e820_table *table, uint64_t low_ram_size, uint64_t high_ram_size)
{
	table->count = 0;
	add(table, 0, BOOT_EBDA_ADDR, E820_RAM);
	add(table, BOOT_EBDA_ADDR, BOOT_BASE_RAM_END - BOOT_EBDA_ADDR, E820_RESERVED);
	add(table, BOOT_ACPI_ADDR, BOOT_BIOS_AREA_END - BOOT_ACPI_ADDR, E820_RESERVED);
	add(table, BOOT_BIOS_AREA_END, low_ram_size - BOOT_BIOS_AREA_END, E820_RAM);
	add_top(table, high_ram_size);
}

void e820_build_firmware(struct e820_table *table, uint64_t low_ram_size, uint64_t high_ram_size)
{
	table->count = 0;
	add(table, 0, low_ram_size, E820_RAM);
	add_top(table, high_ram_size);
}

uint64_t e820_low_ram_top(const struct e820_table *table)
{
	uint64_t top = 0;
	for (unsigned i = 0; i < table->count; i++) {
		const struct e820_entry *e = &table->entries[i];
		if (e->type == E820_RAM && e->addr + e->size <= PC_HIGH_RAM_BASE && e->addr + e->size > top)
			top = e->addr + e->size;
	}
	return top;
}
