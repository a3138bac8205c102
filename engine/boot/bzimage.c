/* bzImage direct boot through the 32-bit boot protocol (Linux
 * Documentation/arch/x86/boot.rst): the setup header is copied into a zeroed
 * boot_params ("zero page") with our fields filled in, the protected-mode
 * kernel goes to 1 MiB, and the CPU enters code32_start with ESI = zero page. */
#include <glib.h>
#include <string.h>

#include "boot/bytes.h"
#include "boot/layout.h"
#include "boot/loader.h"

/* Setup header and boot_params offsets (boot.rst "The real-mode kernel
 * header", zero-page.rst). */
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
/* struct screen_info at the start of boot_params (screen_info.h). */
#define SI_ORIG_VIDEO_MODE  0x06
#define SI_ORIG_VIDEO_COLS  0x07
#define SI_ORIG_VIDEO_LINES 0x0E
#define SI_ORIG_VIDEO_IS_VGA 0x0F
#define SI_ORIG_VIDEO_POINTS 0x10
#define ORIG_VIDEO_VGA      0x01  /* what the real-mode setup stores for a VGA (boot/video.c) */
#define TEXT_MODE_3         0x03  /* 80x25 colour */
#define BP_ACPI_RSDP_ADDR   0x070
#define BP_E820_ENTRIES     0x1E8
#define BP_E820_TABLE       0x2D0
#define BP_SIZE             4096

#define BOOT_FLAG_MAGIC     0xAA55
#define LOADFLAG_LOADED_HIGH 0x01
#define LOADER_TYPE_UNDEFINED 0xFF
#define VID_MODE_NORMAL     0xFFFF
#define PROTOCOL_MIN        0x0206
#define PROTOCOL_INIT_SIZE  0x020A /* init_size exists from 2.10 */
#define PROTOCOL_RSDP       0x020E /* acpi_rsdp_addr exists from 2.14 */
#define SECTOR              512

/* What a VGA BIOS leaves behind: the standard VGA in 80x25 colour text
 * with 8x16 characters (vgacon and earlyprintk=vga use it). */
static void fill_screen_info(uint8_t *bp)
{
	bp[SI_ORIG_VIDEO_MODE] = TEXT_MODE_3;
	bp[SI_ORIG_VIDEO_COLS] = 80;
	bp[SI_ORIG_VIDEO_LINES] = 25;
	bp[SI_ORIG_VIDEO_IS_VGA] = ORIG_VIDEO_VGA;
	put_le(bp + SI_ORIG_VIDEO_POINTS, 16, 2);
}

bool bzimage_detect(const uint8_t *head, size_t len)
{
	return len > HDR_VERSION + 2 && !memcmp(head + HDR_MAGIC, "HdrS", 4);
}

/* The real-mode part: boot sector plus setup_sects sectors (0 means 4). */
static size_t setup_size(const uint8_t *head)
{
	unsigned sects = head[HDR_SETUP_SECTS];
	return ((size_t)(sects ? sects : 4) + 1) * SECTOR;
}

static int check_header(const struct boot_image *k, const uint8_t *head, char **error)
{
	uint32_t version = (uint32_t)get_le(head + HDR_VERSION, 2);
	size_t header_end = HDR_JUMP + 2 + head[HDR_JUMP + 1];
	if (get_le(head + HDR_BOOT_FLAG, 2) != BOOT_FLAG_MAGIC || header_end > k->size ||
	    setup_size(head) >= k->size) {
		*error = g_strdup_printf("kernel %s has a damaged bzImage setup header", k->path);
		return -1;
	}
	if (version < PROTOCOL_MIN) {
		*error = g_strdup_printf("kernel %s uses boot protocol %u.%02u; Vireo needs 2.06 or newer",
					 k->path, version >> 8, version & 0xFF);
		return -1;
	}
	if (!(head[HDR_LOADFLAGS] & LOADFLAG_LOADED_HIGH)) {
		*error = g_strdup_printf("kernel %s is a zImage (loaded low); only bzImages are supported",
					 k->path);
		return -1;
	}
	return 0;
}

static void fill_e820(uint8_t *bp, const struct e820_table *e820)
{
	bp[BP_E820_ENTRIES] = (uint8_t)e820->count;
	for (unsigned i = 0; i < e820->count; i++) {
		uint8_t *slot = bp + BP_E820_TABLE + i * 20; /* packed {u64 addr, u64 size, u32 type} */
		put_le(slot, e820->entries[i].addr, 8);
		put_le(slot + 8, e820->entries[i].size, 8);
		put_le(slot + 16, e820->entries[i].type, 4);
	}
}

int bzimage_load(struct guest_mem *mem, const struct boot_request *req,
		 struct boot_entry *entry, char **error)
{
	const struct boot_image *k = &req->kernel;
	uint8_t head[BP_SIZE] = { 0 }; /* the setup header ends below 0x302 */
	uint8_t bp[BP_SIZE] = { 0 };

	if (!boot_image_read(k, 0, head, MIN(sizeof(head), k->size))) {
		*error = g_strdup_printf("kernel %s: cannot read its setup header", k->path);
		return -1;
	}
	if (check_header(k, head, error) < 0)
		return -1;
	uint32_t version = (uint32_t)get_le(head + HDR_VERSION, 2);
	size_t header_end = HDR_JUMP + 2 + head[HDR_JUMP + 1];
	uint64_t pm_offset = setup_size(head), pm_size = k->size - pm_offset;
	uint64_t footprint = pm_size;
	if (version >= PROTOCOL_INIT_SIZE)
		footprint = MAX(footprint, get_le(head + HDR_INIT_SIZE, 4));

	if (!guest_mem_ptr(mem, BOOT_KERNEL_ADDR, footprint) ||
	    !boot_image_load(k, pm_offset, pm_size, mem, BOOT_KERNEL_ADDR)) {
		*error = g_strdup_printf("kernel %s needs %llu MiB above 1 MiB; give the machine more memory",
					 k->path, (unsigned long long)(footprint >> 20) + 1);
		return -1;
	}

	memcpy(bp + HDR_SETUP_SECTS, head + HDR_SETUP_SECTS, header_end - HDR_SETUP_SECTS);
	bp[HDR_TYPE_OF_LOADER] = LOADER_TYPE_UNDEFINED;
	put_le(bp + HDR_VID_MODE, VID_MODE_NORMAL, 2);
	put_le(bp + HDR_CMD_LINE_PTR, BOOT_CMDLINE_ADDR, 4);
	put_le(bp + HDR_CODE32_START, BOOT_KERNEL_ADDR, 4);
	if (boot_write_cmdline(mem, req, MIN(BOOT_CMDLINE_MAX, get_le(head + HDR_CMDLINE_SIZE, 4) + 1ull),
			       error) < 0)
		return -1;
	if (req->initrd.fd >= 0) {
		uint64_t limit = MIN(get_le(head + HDR_INITRD_ADDR_MAX, 4) + 1ull, e820_low_ram_top(req->e820));
		uint64_t addr = boot_place_initrd(mem, req, BOOT_KERNEL_ADDR + footprint, limit, error);
		if (!addr)
			return -1;
		put_le(bp + HDR_RAMDISK_IMAGE, addr, 4);
		put_le(bp + HDR_RAMDISK_SIZE, req->initrd.size, 4);
	}
	if (version >= PROTOCOL_RSDP)
		put_le(bp + BP_ACPI_RSDP_ADDR, req->rsdp_addr, 8);
	fill_e820(bp, req->e820);
	fill_screen_info(bp);
	if (!guest_mem_write(mem, BOOT_PARAMS_ADDR, bp, sizeof(bp))) {
		*error = g_strdup("guest RAM too small for the zero page");
		return -1;
	}
	entry->eip = BOOT_KERNEL_ADDR;
	entry->esi = BOOT_PARAMS_ADDR;
	return 0;
}
