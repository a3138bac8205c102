/* ELF kernels. The loader places PT_LOAD segments at their physical
 * addresses, then enters one of two ways:
 * - a Linux vmlinux (x86-64, carrying Linux's own ELF notes) through the
 *   64-bit boot protocol (Documentation/arch/x86/boot.rst, "64-bit Boot
 *   Protocol"): startup_64 at the ELF entry, in long mode on identity page
 *   tables, RSI = zero page. That is the hand-over its own decompressor
 *   does, and the zero page tells it about the VGA text screen
 *   (earlyprintk=vga, vgacon), which PVH has no field for;
 * - any other kernel with a PVH note (Xen's HVM direct boot ABI, as Linux,
 *   Firecracker and Cloud Hypervisor use it; our test guests): the 32-bit
 *   address named by XEN_ELFNOTE_PHYS32_ENTRY with EBX = hvm_start_info
 *   (xen/include/public/arch-x86/hvm/start_info.h).
 * Every offset read from the file is checked against its size: a malformed
 * kernel is an error. */
#include <elf.h>
#include <glib.h>
#include <string.h>

#include "boot/layout.h"
#include "boot/loader.h"
#include "boot/zeropage.h"
#include "core/bytes.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC 0x336ec578
#define HVM_START_VERSION 1
#define LINUX_COMMAND_LINE_SIZE 2048   /* x86 COMMAND_LINE_SIZE, with the NUL */
#define LINUX_PROTOCOL_VERSION 0x020F  /* the zero-page fields we fill exist in 2.15 */

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;   /* version 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

/* A program header in class-neutral form. */
struct segment {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

/* The ELF header and program header table, read from the file. */
struct elf_view {
	const struct boot_image *img;
	bool is64;
	uint16_t machine;
	uint64_t entry;
	unsigned phnum;
	uint8_t *phdrs;
};

#define NOTE_SEGMENT_MAX 0x10000 /* larger PT_NOTE segments are not kernels' */

bool elf_image_detect(const uint8_t *head, size_t len)
{
	return len >= EI_NIDENT && !memcmp(head, ELFMAG, SELFMAG);
}

static int open_elf(struct elf_view *v, const struct boot_image *img, char **error)
{
	union { Elf32_Ehdr e32; Elf64_Ehdr e64; } eh;
	uint64_t phoff;
	v->img = img;
	v->phdrs = NULL;
	if (!boot_image_read(img, 0, &eh, MIN(sizeof(eh), img->size)) ||
	    (eh.e32.e_ident[EI_CLASS] != ELFCLASS32 && eh.e32.e_ident[EI_CLASS] != ELFCLASS64) ||
	    eh.e32.e_ident[EI_DATA] != ELFDATA2LSB ||
	    img->size < (eh.e32.e_ident[EI_CLASS] == ELFCLASS64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr))) {
		*error = g_strdup_printf("kernel %s is not a little-endian x86 ELF file", img->path);
		return -1;
	}
	v->is64 = eh.e32.e_ident[EI_CLASS] == ELFCLASS64;
	v->machine = eh.e32.e_machine; /* same offset in both classes */
	v->entry = v->is64 ? eh.e64.e_entry : eh.e32.e_entry;
	phoff = v->is64 ? eh.e64.e_phoff : eh.e32.e_phoff;
	v->phnum = v->is64 ? eh.e64.e_phnum : eh.e32.e_phnum;
	size_t table = v->phnum * (v->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr));
	v->phdrs = v->phnum ? g_malloc(table) : NULL;
	if (!v->phdrs || !boot_image_read(img, phoff, v->phdrs, table)) {
		*error = g_strdup_printf("kernel %s has a damaged ELF program header table", img->path);
		g_free(v->phdrs);
		v->phdrs = NULL;
		return -1;
	}
	return 0;
}

static struct segment get_segment(const struct elf_view *v, unsigned i)
{
	Elf64_Phdr p64;
	Elf32_Phdr p32;
	if (v->is64) {
		memcpy(&p64, v->phdrs + i * sizeof(p64), sizeof(p64));
		return (struct segment){ p64.p_type, p64.p_offset, p64.p_paddr, p64.p_filesz, p64.p_memsz };
	}
	memcpy(&p32, v->phdrs + i * sizeof(p32), sizeof(p32));
	return (struct segment){ p32.p_type, p32.p_offset, p32.p_paddr, p32.p_filesz, p32.p_memsz };
}

/* What the ELF notes say about how to enter the kernel. */
struct kernel_notes {
	bool has_pvh_entry;
	uint64_t pvh_entry;
	bool is_linux;     /* a note owned by "Linux" (build salt, LTO info) */
};

/* Walks the notes of one PT_NOTE segment (ELF notes have the same layout in
 * both classes: 32-bit namesz, descsz, type; name and desc 4-byte aligned). */
static void scan_notes(const struct boot_image *img, const struct segment *s, struct kernel_notes *found)
{
	if (s->filesz > NOTE_SEGMENT_MAX)
		return;
	g_autofree uint8_t *notes = g_malloc(s->filesz + 1);
	if (!boot_image_read(img, s->offset, notes, s->filesz))
		return;
	for (uint64_t pos = 0, end = s->filesz; end - pos >= 12;) {
		uint32_t hdr[3];
		memcpy(hdr, notes + pos, sizeof(hdr));
		uint64_t name_len = ((uint64_t)hdr[0] + 3) & ~3ull, desc_len = ((uint64_t)hdr[1] + 3) & ~3ull;
		uint64_t name = pos + 12, desc = name + name_len;
		if (name_len > end - name || desc_len > end - desc)
			return;
		if (hdr[2] == XEN_ELFNOTE_PHYS32_ENTRY && hdr[0] == 4 &&
		    !memcmp(notes + name, "Xen", 4) && (hdr[1] == 4 || hdr[1] == 8)) {
			found->pvh_entry = 0;
			memcpy(&found->pvh_entry, notes + desc, hdr[1]);
			found->has_pvh_entry = true;
		}
		if (hdr[0] == 6 && !memcmp(notes + name, "Linux", 6))
			found->is_linux = true;
		pos = desc + desc_len;
	}
}

static int load_segment(struct guest_mem *mem, const struct boot_image *img,
			const struct segment *s, uint64_t *kernel_end, char **error)
{
	uint8_t *dst = guest_mem_ptr(mem, s->paddr, s->memsz);
	if (!dst || s->paddr + s->memsz > 1ull << 32) {
		*error = g_strdup_printf("kernel %s wants memory at 0x%llx-0x%llx, outside guest RAM "
					 "(give the machine more memory)", img->path,
					 (unsigned long long)s->paddr, (unsigned long long)(s->paddr + s->memsz));
		return -1;
	}
	if (s->filesz > s->memsz || !boot_image_read(img, s->offset, dst, s->filesz)) {
		*error = g_strdup_printf("kernel %s has a damaged segment at offset 0x%llx", img->path,
					 (unsigned long long)s->offset);
		return -1;
	}
	memset(dst + s->filesz, 0, s->memsz - s->filesz);
	*kernel_end = MAX(*kernel_end, s->paddr + s->memsz);
	return 0;
}

static int write_start_info(struct guest_mem *mem, const struct boot_request *req,
			    uint64_t initrd_addr, char **error)
{
	struct hvm_start_info info = {
		.magic = HVM_START_MAGIC, .version = HVM_START_VERSION,
		.cmdline_paddr = BOOT_CMDLINE_ADDR, .rsdp_paddr = req->rsdp_addr,
		.memmap_paddr = BOOT_PVH_MEMMAP_ADDR, .memmap_entries = req->e820->count,
	};
	struct hvm_memmap_table_entry map[E820_MAX_ENTRIES] = { 0 };
	for (unsigned i = 0; i < req->e820->count; i++)
		map[i] = (struct hvm_memmap_table_entry){ req->e820->entries[i].addr,
			req->e820->entries[i].size, req->e820->entries[i].type, 0 };
	if (initrd_addr) {
		struct hvm_modlist_entry module = { .paddr = initrd_addr, .size = req->initrd.size };
		info.nr_modules = 1;
		info.modlist_paddr = BOOT_PVH_MODLIST_ADDR;
		if (!guest_mem_write(mem, BOOT_PVH_MODLIST_ADDR, &module, sizeof(module)))
			goto fail;
	}
	if (!guest_mem_write(mem, BOOT_PVH_MEMMAP_ADDR, map, req->e820->count * sizeof(map[0])) ||
	    !guest_mem_write(mem, BOOT_PARAMS_ADDR, &info, sizeof(info)))
		goto fail;
	return 0;
fail:
	*error = g_strdup("guest RAM too small for PVH boot data");
	return -1;
}

/* Loads every PT_LOAD segment; *kernel_end is the highest byte loaded. */
static int load_segments(struct guest_mem *mem, const struct boot_image *img,
			 const struct elf_view *v, uint64_t *kernel_end, char **error)
{
	*kernel_end = 0;
	for (unsigned i = 0; i < v->phnum; i++) {
		struct segment s = get_segment(v, i);
		if (s.type == PT_LOAD && s.memsz && load_segment(mem, img, &s, kernel_end, error) < 0)
			return -1;
	}
	return 0;
}

static uint64_t place_initrd(struct guest_mem *mem, const struct boot_request *req,
			     uint64_t kernel_end, char **error)
{
	if (req->initrd.fd < 0)
		return 0;
	return boot_place_initrd(mem, req, MAX(kernel_end, BOOT_KERNEL_ADDR),
				 e820_low_ram_top(req->e820), error);
}

static int pvh_enter(struct guest_mem *mem, const struct boot_request *req,
		     const struct kernel_notes *notes, uint64_t kernel_end,
		     struct boot_entry *entry, char **error)
{
	uint64_t initrd_addr = place_initrd(mem, req, kernel_end, error);
	if ((req->initrd.fd >= 0 && !initrd_addr) ||
	    boot_write_cmdline(mem, req, BOOT_CMDLINE_MAX, error) < 0 ||
	    write_start_info(mem, req, initrd_addr, error) < 0)
		return -1;
	entry->eip = (uint32_t)notes->pvh_entry;
	entry->ebx = BOOT_PARAMS_ADDR;
	return 0;
}

/* The 64-bit boot protocol: a zero page with a minimal setup header (no
 * real-mode part exists to copy one from) and startup_64 in long mode. */
static int linux64_enter(struct guest_mem *mem, const struct boot_request *req,
			 const struct elf_view *v, uint64_t kernel_end,
			 struct boot_entry *entry, char **error)
{
	uint8_t bp[ZP_SIZE] = { 0 };
	uint64_t initrd_addr = place_initrd(mem, req, kernel_end, error);
	if ((req->initrd.fd >= 0 && !initrd_addr) ||
	    boot_write_cmdline(mem, req, LINUX_COMMAND_LINE_SIZE, error) < 0)
		return -1;
	put_le16(bp + HDR_BOOT_FLAG, BOOT_FLAG_MAGIC);
	memcpy(bp + HDR_MAGIC, "HdrS", 4);
	put_le16(bp + HDR_VERSION, LINUX_PROTOCOL_VERSION);
	put_le32(bp + HDR_CMDLINE_SIZE, LINUX_COMMAND_LINE_SIZE - 1);
	zero_page_fill(bp, req, initrd_addr);
	if (!guest_mem_write(mem, BOOT_PARAMS_ADDR, bp, sizeof(bp))) {
		*error = g_strdup("guest RAM too small for the zero page");
		return -1;
	}
	entry->eip = (uint32_t)v->entry;
	entry->esi = BOOT_PARAMS_ADDR;
	return boot_enter_long_mode(mem, entry, error);
}

static int load_elf(struct guest_mem *mem, const struct boot_request *req,
		    const struct elf_view *v, struct boot_entry *entry, char **error)
{
	struct kernel_notes notes = { 0 };
	uint64_t kernel_end;

	for (unsigned i = 0; i < v->phnum; i++) {
		struct segment s = get_segment(v, i);
		if (s.type == PT_NOTE)
			scan_notes(&req->kernel, &s, &notes);
	}
	bool linux64 = notes.is_linux && v->is64 && v->machine == EM_X86_64 && v->entry < 1ull << 32;
	if (!linux64 && (!notes.has_pvh_entry || notes.pvh_entry >= 1ull << 32)) {
		*error = g_strdup_printf("kernel %s is an ELF file without a PVH entry note "
					 "(XEN_ELFNOTE_PHYS32_ENTRY); build it with CONFIG_PVH=y",
					 req->kernel.path);
		return -1;
	}
	if (load_segments(mem, &req->kernel, v, &kernel_end, error) < 0)
		return -1;
	return linux64 ? linux64_enter(mem, req, v, kernel_end, entry, error)
		       : pvh_enter(mem, req, &notes, kernel_end, entry, error);
}

int elf_load(struct guest_mem *mem, const struct boot_request *req,
	     struct boot_entry *entry, char **error)
{
	struct elf_view elf;
	if (open_elf(&elf, &req->kernel, error) < 0)
		return -1;
	int ret = load_elf(mem, req, &elf, entry, error);
	g_free(elf.phdrs);
	return ret;
}
