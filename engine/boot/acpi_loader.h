/* The ACPI tables of boot/acpi.h for firmware that builds nothing itself
 * (SeaBIOS with a loader, OVMF): fw_cfg files etc/acpi/rsdp and
 * etc/acpi/tables, and the script etc/table-loader telling the firmware
 * where to put them and how to link them. */
#ifndef VIREO_BOOT_ACPI_LOADER_H
#define VIREO_BOOT_ACPI_LOADER_H

#include "boot/acpi.h"
#include "hw/fw_cfg.h"

#define ACPI_LOADER_FILE "etc/table-loader"
#define ACPI_LOADER_RSDP_FILE "etc/acpi/rsdp"
#define ACPI_LOADER_TABLES_FILE "etc/acpi/tables"

/* Loader commands (QEMU's bios-linker-loader interface, as SeaBIOS's
 * src/fw/romfile_loader.h declares it): 128-byte little-endian entries,
 * a u32 command and its arguments; file names are NUL-padded to 56 bytes. */
#define ACPI_LOADER_ENTRY_SIZE 128
#define ACPI_LOADER_NAME_SIZE 56
#define ACPI_LOADER_ALLOCATE 1       /* file[56], u32 align, u8 zone */
#define ACPI_LOADER_ADD_POINTER 2    /* dst[56], src[56], u32 offset, u8 size */
#define ACPI_LOADER_ADD_CHECKSUM 3   /* file[56], u32 result offset, u32 start, u32 length */
#define ACPI_LOADER_ZONE_HIGH 1      /* anywhere in RAM the OS keeps */
#define ACPI_LOADER_ZONE_FSEG 2      /* 0xE0000-0xFFFFF, where OSes scan for the RSDP */

/* Builds the tables and adds the three files. Returns 0, -EINVAL when the
 * tables cannot be built (acpi_tables_build), or fw_cfg_add_file's error. */
int acpi_loader_publish(struct fw_cfg *cfg, const struct acpi_config *config);

#endif
