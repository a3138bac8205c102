/* Linux direct boot: format detection and the parts both loaders share. */
#include "loader.h"

#include <errno.h>
#include <glib.h>
#include <string.h>
#include <unistd.h>

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

/* Long-mode page table entry bits (Intel SDM vol. 3, 4.5 "4-level paging"). */
#define PTE_PRESENT   0x01ull
#define PTE_WRITABLE  0x02ull
#define PTE_LARGE     0x80ull   /* 2 MiB page in a page directory */
#define PAGE_SIZE_4K  0x1000u
#define LARGE_PAGE    (2ull << 20)
#define IDENTITY_GIB  4u        /* what the identity map covers */
#define CODE64_DESCRIPTOR 0x00AF9B000000FFFFull /* execute/read, L=1, D=0 */

int boot_enter_long_mode(struct guest_mem *mem, struct boot_entry *entry, char **error)
{
	uint64_t pml4[512] = { BOOT_PDPT_ADDR | PTE_PRESENT | PTE_WRITABLE };
	uint64_t pdpt[512] = { 0 };
	g_autofree uint64_t *pd = g_new0(uint64_t, 512 * IDENTITY_GIB);
	uint64_t code64 = CODE64_DESCRIPTOR;

	for (unsigned gib = 0; gib < IDENTITY_GIB; gib++)
		pdpt[gib] = (BOOT_PD_ADDR + gib * PAGE_SIZE_4K) | PTE_PRESENT | PTE_WRITABLE;
	for (unsigned i = 0; i < 512 * IDENTITY_GIB; i++)
		pd[i] = i * LARGE_PAGE | PTE_PRESENT | PTE_WRITABLE | PTE_LARGE;
	if (!guest_mem_write(mem, BOOT_PML4_ADDR, pml4, sizeof(pml4)) ||
	    !guest_mem_write(mem, BOOT_PDPT_ADDR, pdpt, sizeof(pdpt)) ||
	    !guest_mem_write(mem, BOOT_PD_ADDR, pd, 512 * IDENTITY_GIB * sizeof(*pd)) ||
	    !guest_mem_write(mem, entry->gdt_base + BOOT_CODE_SELECTOR, &code64, sizeof(code64))) {
		*error = g_strdup("guest RAM too small for the boot page tables");
		return -1;
	}
	entry->cr3 = BOOT_PML4_ADDR;
	return 0;
}

bool boot_image_read(const struct boot_image *img, uint64_t offset, void *dst, uint64_t len)
{
	if (offset > img->size || len > img->size - offset)
		return false;
	for (uint8_t *p = dst; len > 0;) {
		ssize_t n = pread(img->fd, p, MIN(len, 1u << 30), (off_t)offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n, offset += (uint64_t)n, len -= (uint64_t)n;
	}
	return true;
}

bool boot_image_load(const struct boot_image *img, uint64_t offset, uint64_t len,
		     struct guest_mem *mem, uint64_t gpa)
{
	void *dst = len ? guest_mem_ptr(mem, gpa, len) : NULL;
	return len == 0 || (dst && boot_image_read(img, offset, dst, len));
}

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
	if (addr < floor || !boot_image_load(&req->initrd, 0, size, mem, addr)) {
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
	uint8_t head[0x210] = { 0 };
	size_t head_len = MIN(sizeof(head), req->kernel.size);
	if (!boot_image_read(&req->kernel, 0, head, head_len)) {
		*error = g_strdup_printf("kernel %s: cannot read it: %s", req->kernel.path, g_strerror(errno));
		return -1;
	}
	if (bzimage_detect(head, head_len))
		return bzimage_load(mem, req, entry, error);
	if (elf_image_detect(head, head_len))
		return elf_load(mem, req, entry, error);
	*error = g_strdup_printf("kernel %s is neither a bzImage nor an ELF kernel with a PVH entry note",
				 req->kernel.path);
	return -1;
}
