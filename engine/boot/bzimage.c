/* bzImage direct boot through the 32-bit boot protocol (Linux
 * Documentation/arch/x86/boot.rst): the setup header is copied into a zeroed
 * boot_params ("zero page") with our fields filled in, the protected-mode
 * kernel goes to 1 MiB, and the CPU enters code32_start with ESI = zero page. */
#include <glib.h>
#include <string.h>

#include "core/bytes.h"
#include "boot/layout.h"
#include "boot/loader.h"
#include "boot/zeropage.h"

#define LOADFLAG_LOADED_HIGH 0x01
#define PROTOCOL_MIN        0x0206
#define PROTOCOL_INIT_SIZE  0x020A /* init_size exists from 2.10 */
#define SECTOR              512

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

int bzimage_load(struct guest_mem *mem, const struct boot_request *req,
		 struct boot_entry *entry, char **error)
{
	const struct boot_image *k = &req->kernel;
	uint8_t head[ZP_SIZE] = { 0 }; /* the setup header ends below 0x302 */
	uint8_t bp[ZP_SIZE] = { 0 };

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

	uint64_t initrd_addr = 0;
	if (boot_write_cmdline(mem, req, MIN(BOOT_CMDLINE_MAX, get_le(head + HDR_CMDLINE_SIZE, 4) + 1ull),
			       error) < 0)
		return -1;
	if (req->initrd.fd >= 0) {
		uint64_t limit = MIN(get_le(head + HDR_INITRD_ADDR_MAX, 4) + 1ull, e820_low_ram_top(req->e820));
		initrd_addr = boot_place_initrd(mem, req, BOOT_KERNEL_ADDR + footprint, limit, error);
		if (!initrd_addr)
			return -1;
	}
	memcpy(bp + HDR_SETUP_SECTS, head + HDR_SETUP_SECTS, header_end - HDR_SETUP_SECTS);
	put_le32(bp + HDR_CODE32_START, BOOT_KERNEL_ADDR);
	zero_page_fill(bp, req, initrd_addr);
	if (!guest_mem_write(mem, BOOT_PARAMS_ADDR, bp, sizeof(bp))) {
		*error = g_strdup("guest RAM too small for the zero page");
		return -1;
	}
	entry->eip = BOOT_KERNEL_ADDR;
	entry->esi = BOOT_PARAMS_ADDR;
	return 0;
}
