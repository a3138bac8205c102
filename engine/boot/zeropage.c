/* See zeropage.h. */
#include "boot/zeropage.h"

#include "core/bytes.h"
#include "boot/layout.h"

/* struct screen_info at the start of boot_params (include/uapi/linux/screen_info.h). */
#define SI_ORIG_VIDEO_MODE   0x06
#define SI_ORIG_VIDEO_COLS   0x07
#define SI_ORIG_VIDEO_LINES  0x0E
#define SI_ORIG_VIDEO_IS_VGA 0x0F
#define SI_ORIG_VIDEO_POINTS 0x10
#define ORIG_VIDEO_VGA       0x01  /* what the real-mode setup stores for a VGA (boot/video.c) */
#define TEXT_MODE_3          0x03  /* 80x25 colour */
#define BP_ACPI_RSDP_ADDR    0x070
#define BP_E820_ENTRIES      0x1E8
#define BP_E820_TABLE        0x2D0

#define LOADER_TYPE_UNDEFINED 0xFF
#define VID_MODE_NORMAL      0xFFFF
#define PROTOCOL_RSDP        0x020E /* acpi_rsdp_addr exists from 2.14 */

/* What a VGA BIOS leaves behind: the standard VGA in 80x25 colour text
 * with 8x16 characters (vgacon and earlyprintk=vga use it). */
static void fill_screen_info(uint8_t *bp)
{
	bp[SI_ORIG_VIDEO_MODE] = TEXT_MODE_3;
	bp[SI_ORIG_VIDEO_COLS] = 80;
	bp[SI_ORIG_VIDEO_LINES] = 25;
	bp[SI_ORIG_VIDEO_IS_VGA] = ORIG_VIDEO_VGA;
	put_le16(bp + SI_ORIG_VIDEO_POINTS, 16);
}

static void fill_e820(uint8_t *bp, const struct e820_table *e820)
{
	bp[BP_E820_ENTRIES] = (uint8_t)e820->count;
	for (unsigned i = 0; i < e820->count; i++) {
		uint8_t *slot = bp + BP_E820_TABLE + i * 20; /* packed {u64 addr, u64 size, u32 type} */
		put_le64(slot, e820->entries[i].addr);
		put_le64(slot + 8, e820->entries[i].size);
		put_le32(slot + 16, e820->entries[i].type);
	}
}

void zero_page_fill(uint8_t *bp, const struct boot_request *req, uint64_t initrd_addr)
{
	bp[HDR_TYPE_OF_LOADER] = LOADER_TYPE_UNDEFINED;
	put_le16(bp + HDR_VID_MODE, VID_MODE_NORMAL);
	put_le32(bp + HDR_CMD_LINE_PTR, BOOT_CMDLINE_ADDR);
	if (initrd_addr) {
		put_le32(bp + HDR_RAMDISK_IMAGE, (uint32_t)initrd_addr);
		put_le32(bp + HDR_RAMDISK_SIZE, (uint32_t)req->initrd.size);
	}
	if (get_le16(bp + HDR_VERSION) >= PROTOCOL_RSDP)
		put_le64(bp + BP_ACPI_RSDP_ADDR, req->rsdp_addr);
	fill_e820(bp, req->e820);
	fill_screen_info(bp);
}
