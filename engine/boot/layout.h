/* Where direct boot puts things in low guest memory. */
#ifndef VIREO_BOOT_LAYOUT_H
#define VIREO_BOOT_LAYOUT_H

#define BOOT_GDT_ADDR        0x500      /* flat GDT for the 32-bit entry */
#define BOOT_PARAMS_ADDR     0x7000     /* Linux zero page, or PVH hvm_start_info */
#define BOOT_PVH_MODLIST_ADDR 0x7800    /* PVH module list (the initrd) */
#define BOOT_PVH_MEMMAP_ADDR 0x8000     /* PVH memory map */
#define BOOT_PML4_ADDR       0x9000     /* 64-bit entry: identity page tables, */
#define BOOT_PDPT_ADDR       0xA000
#define BOOT_PD_ADDR         0xB000     /* four page directories up to 0xEFFF */
#define BOOT_CMDLINE_ADDR    0x20000
#define BOOT_CMDLINE_MAX     0x10000    /* bytes, with the NUL */
#define BOOT_EBDA_ADDR       0x9FC00    /* last KiB of base memory, reserved as on PCs */
#define BOOT_BASE_RAM_END    0xA0000
#define BOOT_ACPI_ADDR       0xE0000    /* RSDP and tables: 0xE0000-0xEFFFF */
#define BOOT_ACPI_SIZE       0x10000
#define BOOT_MPTABLE_ADDR    0xF0000    /* MP floating pointer and table: 0xF0000-0xFFFFF */
#define BOOT_MPTABLE_SIZE    0x10000
#define BOOT_BIOS_AREA_END   0x100000
#define BOOT_KERNEL_ADDR     0x100000

#endif
