/* The Linux boot protocol's boot_params ("zero page", Documentation/arch/x86/
 * zero-page.rst): the fields a boot loader fills, shared by the bzImage
 * loader (32-bit entry) and the vmlinux loader (64-bit entry). */
#ifndef VIREO_BOOT_ZEROPAGE_H
#define VIREO_BOOT_ZEROPAGE_H

#include <stdint.h>

#include "boot/loader.h"

#define ZP_SIZE 4096

/* Setup header offsets inside boot_params (boot.rst "The real-mode kernel
 * header"). */
#define HDR_SETUP_SECTS     0x1F1
#define HDR_VID_MODE        0x1FA
#define HDR_BOOT_FLAG       0x1FE
#define HDR_JUMP            0x200
#define HDR_MAGIC           0x202 /* "HdrS" */
#define HDR_VERSION         0x206
#define HDR_TYPE_OF_LOADER  0x210
#define HDR_LOADFLAGS       0x211
#define HDR_CODE32_START    0x214
#define HDR_RAMDISK_IMAGE   0x218
#define HDR_RAMDISK_SIZE    0x21C
#define HDR_CMD_LINE_PTR    0x228
#define HDR_INITRD_ADDR_MAX 0x22C
#define HDR_CMDLINE_SIZE    0x238
#define HDR_INIT_SIZE       0x260

#define BOOT_FLAG_MAGIC     0xAA55

/* What a boot loader and a VGA BIOS leave in boot_params whatever the kernel
 * format: loader type, command line pointer, initrd (initrd_addr 0: none),
 * RSDP (when HDR_VERSION says the kernel has the field), e820 and the 80x25
 * VGA text screen. */
void zero_page_fill(uint8_t *bp, const struct boot_request *req, uint64_t initrd_addr);

#endif
