/* Linux direct boot: format detection and the parts both loaders share. */
#include "loader.h"

#include <glib.h>
#include <string.h>

#include "boot/layout.h"

/* A flat 4 GiB code segment at 0x10 and data segment at 0x18, as the 32-bit
 * boot protocol requires (Documentation/arch/x86/boot.rst, "32-bit boot
 * protocol"); PVH is entered with the same selectors. */
static const uint64_t boot_gdt[] = {
	0,
	0,
	0x00CF9B000000FFFFull, /* 0x10: code, base 0, limit 4 GiB, 32-bit, present */
	0x00CF93000000FFFFull, /* 0x18: data, base 0, limit 4 GiB, 32-bit, present */
};

int boot_write_cmdline(struct guest_mem *mem, const struct boot_request *req,
		       size_t max_len, char **error)
{
	const char *cmdline = req->cmdline ? req->cmdline : "";
	size_t len = strlen(cmdline) + 1;
	if (len > max_len) {
		*error = g_strdup_printf("kernel command line is %zu bytes; %s accepts at most %zu",
					 len - 1, req->kernel.path, max_len - 1);
		return -1;
	}
	if (!guest_mem_write(mem, BOOT_CMDLINE_ADDR, cmdline, len)) {
		*error = g_strdup("guest RAM too small for the kernel command line");
		return -1;
	}
	return 0;
}

uint64_t boot_place_initrd(struct guest_mem *mem, const struct boot_request *req,
			   uint64_t floor, uint64_t limit, char **error)
{
	uint64_t size = req->initrd.size;
	uint64_t addr = limit > size ? (limit - size) & ~0xFFFull : 0;
	if (size == 0) {
		*error = g_strdup_printf("initrd %s is empty", req->initrd.path);
		return 0;
	}
	if (addr < floor || !guest_mem_write(mem, addr, req->initrd.data, size)) {
		g_autofree char *s = g_format_size_full(size, G_FORMAT_SIZE_IEC_UNITS);
		*error = g_strdup_printf("initrd %s (%s) does not fit in guest RAM below the kernel's limit; "
					 "give the machine more memory", req->initrd.path, s);
		return 0;
	}
	return addr;
}

int boot_load(struct guest_mem *mem, const struct boot_request *req,
	      struct boot_entry *entry, char **error)
{
	if (!guest_mem_write(mem, BOOT_GDT_ADDR, boot_gdt, sizeof(boot_gdt))) {
		*error = g_strdup("guest RAM too small for boot data");
		return -1;
	}
	memset(entry, 0, sizeof(*entry));
	entry->gdt_base = BOOT_GDT_ADDR;
	entry->gdt_limit = sizeof(boot_gdt) - 1;
	if (bzimage_detect(&req->kernel))
		return bzimage_load(mem, req, entry, error);
	if (pvh_image_is_elf(&req->kernel))
		return pvh_load(mem, req, entry, error);
	*error = g_strdup_printf("kernel %s is neither a bzImage nor an ELF kernel with a PVH entry note",
				 req->kernel.path);
	return -1;
}
