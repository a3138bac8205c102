/* QEMU's firmware configuration device (fw_cfg) on x86 I/O ports, as
 * SeaBIOS and OVMF read it: numbered items, named files and DMA. */
#ifndef VIREO_HW_FW_CFG_H
#define VIREO_HW_FW_CFG_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/device.h"
#include "core/guest_mem.h"

/* Selector keys (QEMU docs/specs/fw_cfg.rst, "Selector Register"). */
#define FW_CFG_SIGNATURE    0x00
#define FW_CFG_ID           0x01
#define FW_CFG_UUID         0x02
#define FW_CFG_RAM_SIZE     0x03
#define FW_CFG_NOGRAPHIC    0x04
#define FW_CFG_NB_CPUS      0x05
#define FW_CFG_NUMA         0x0D
#define FW_CFG_BOOT_MENU    0x0E
#define FW_CFG_MAX_CPUS     0x0F
#define FW_CFG_FILE_DIR     0x19
#define FW_CFG_FILE_FIRST   0x20
#define FW_CFG_WRITE_CHANNEL 0x4000
#define FW_CFG_ARCH_LOCAL   0x8000
#define FW_CFG_ENTRY_MASK   0x3FFF
/* x86 items (QEMU hw/i386/fw_cfg.h). */
#define FW_CFG_ACPI_TABLES  (FW_CFG_ARCH_LOCAL + 0)
#define FW_CFG_SMBIOS_ENTRIES (FW_CFG_ARCH_LOCAL + 1)
#define FW_CFG_IRQ0_OVERRIDE (FW_CFG_ARCH_LOCAL + 2)
#define FW_CFG_E820_TABLE   (FW_CFG_ARCH_LOCAL + 3)

#define FW_CFG_MAX_FILES    32
#define FW_CFG_MAX_ENTRIES  (FW_CFG_FILE_FIRST + FW_CFG_MAX_FILES)
#define FW_CFG_FILE_NAME_SIZE 56

/* Ports ("x86, x86_64 Register Locations"). */
#define FW_CFG_PORT_SELECTOR 0x510   /* 16 bits: its high byte shares 0x511 with data */
#define FW_CFG_PORT_DATA     0x511
#define FW_CFG_PORT_DMA      0x514   /* DMA address, big-endian: high half, then low at 0x518 */

struct fw_cfg_item {
	uint8_t *data;
	uint32_t size;
};

struct fw_cfg {
	GMutex lock;                       /* every register and item: vCPUs may race */
	const struct guest_mem *mem;
	struct fw_cfg_item items[2][FW_CFG_MAX_ENTRIES];  /* generic, then arch-local keys */
	unsigned file_count;
	char names[FW_CFG_MAX_FILES][FW_CFG_FILE_NAME_SIZE];  /* file i has key FW_CFG_FILE_FIRST + i */
	uint16_t selector;
	uint32_t offset;                   /* read position in the selected item */
	uint32_t dma_high;                 /* 0x514, until the write to 0x518 uses it */
};

/* Registers the ports on pio and fills the signature, the ID (traditional
 * interface and DMA) and an empty file directory. DMA reaches guest RAM
 * through mem only. Returns 0 or -errno. */
int fw_cfg_init(struct fw_cfg *cfg, struct bus *pio, const struct guest_mem *mem);
void fw_cfg_destroy(struct fw_cfg *cfg);

extern const struct device_ops fw_cfg_device_ops;

/* Sets numbered item `key` to a copy of the bytes (integers are little-
 * endian, the caller's job). Returns 0, -EINVAL for a key out of range. */
int fw_cfg_add_bytes(struct fw_cfg *cfg, uint16_t key, const void *data, size_t size);
int fw_cfg_add_u16(struct fw_cfg *cfg, uint16_t key, uint16_t value);
int fw_cfg_add_u32(struct fw_cfg *cfg, uint16_t key, uint32_t value);
int fw_cfg_add_u64(struct fw_cfg *cfg, uint16_t key, uint64_t value);

/* Adds a named file (a copy) with the next free key and lists it in the
 * directory. Returns 0, -EEXIST for a name already there, -ENOSPC when the
 * directory is full, -EINVAL for a name too long or a file over 4 GiB. */
int fw_cfg_add_file(struct fw_cfg *cfg, const char *name, const void *data, size_t size);

#endif
