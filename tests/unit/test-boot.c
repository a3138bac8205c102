/* The direct-boot loaders against Debian's real kernel: bzImage through the
 * 32-bit boot protocol, vmlinux through the 64-bit boot protocol and (with
 * its Linux notes renamed, as any other ELF kernel) through PVH, checked
 * field by field, and
 * damaged images refused without touching memory outside guest RAM. */
#include <elf.h>
#include <glib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "boot/e820.h"
#include "boot/layout.h"
#include "boot/loader.h"

#define RAM_SIZE (512ull << 20)

struct fixture {
	uint8_t *ram;
	struct guest_mem mem;
	struct e820_table e820;
	struct boot_request req;
	struct boot_entry entry;
	GMappedFile *kernel;
	const uint8_t *image;   /* the kernel's bytes, for the test's own checks */
	uint8_t initrd[3 * 4096 + 17];
};

/* An in-memory file, for initrds and damaged kernels. */
static struct boot_image memfd_image(const void *data, size_t len, const char *name)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write(fd, data, len), ==, (ssize_t)len);
	return (struct boot_image){ fd, len, name };
}

static GMappedFile *open_image(const char *name)
{
	const char *dir = g_getenv("VIREO_IMAGES");
	if (!dir)
		g_error("VIREO_IMAGES is not set: run the suite through ./setup.sh test");
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_autoptr(GError) error = NULL;
	GMappedFile *f = g_mapped_file_new(path, FALSE, &error);
	g_assert_no_error(error);
	return f;
}

static void fixture_setup(struct fixture *f, uint64_t ram_size, const char *kernel_name)
{
	memset(f, 0, sizeof(*f));
	f->ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	g_assert(f->ram != MAP_FAILED);
	g_assert_true(guest_mem_add(&f->mem, 0, ram_size, f->ram));
	e820_build(&f->e820, ram_size, 0);
	for (size_t i = 0; i < sizeof(f->initrd); i++)
		f->initrd[i] = (uint8_t)(i * 7);
	f->kernel = open_image(kernel_name);
	f->image = (const uint8_t *)g_mapped_file_get_contents(f->kernel);
	f->req = (struct boot_request){
		.kernel = memfd_image(f->image, g_mapped_file_get_length(f->kernel), kernel_name),
		.initrd = memfd_image(f->initrd, sizeof(f->initrd), "initrd"),
		.cmdline = "console=ttyS0 root=/dev/vda",
		.e820 = &f->e820,
		.rsdp_addr = BOOT_ACPI_ADDR,
	};
}

static void fixture_teardown(struct fixture *f, uint64_t ram_size)
{
	close(f->req.kernel.fd);
	close(f->req.initrd.fd);
	munmap(f->ram, ram_size);
	g_mapped_file_unref(f->kernel);
}

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void assert_e820_equal(const uint8_t *table, unsigned count, unsigned stride, const struct e820_table *want)
{
	g_assert_cmpuint(count, ==, want->count);
	for (unsigned i = 0; i < count; i++) {
		const uint8_t *e = table + i * stride;
		g_assert_cmphex(le(e, 8), ==, want->entries[i].addr);
		g_assert_cmphex(le(e + 8, 8), ==, want->entries[i].size);
		g_assert_cmpuint(le(e + 16, 4), ==, want->entries[i].type);
	}
}

static void test_bzimage(void)
{
	struct fixture f;
	char *error = NULL;
	fixture_setup(&f, RAM_SIZE, "vmlinuz");
	const uint8_t *k = f.image;

	g_assert_true(bzimage_detect(k, f.req.kernel.size));
	g_assert_cmpint(boot_load(&f.mem, &f.req, &f.entry, &error), ==, 0);
	g_assert_null(error);

	const uint8_t *zp = f.ram + BOOT_PARAMS_ADDR;
	unsigned setup_sects = k[0x1F1] ? k[0x1F1] : 4;
	size_t setup_size = (setup_sects + 1) * 512;
	/* Header copied from the file, with the loader's fields filled in. */
	g_assert_cmphex(le(zp + 0x1FE, 2), ==, 0xAA55);
	g_assert_cmpmem(zp + 0x202, 4, "HdrS", 4);
	g_assert_cmphex(le(zp + 0x206, 2), ==, le(k + 0x206, 2));
	g_assert_cmpuint(zp[0x1F1], ==, k[0x1F1]);
	g_assert_cmphex(zp[0x210], ==, 0xFF);                       /* type_of_loader */
	g_assert_cmphex(le(zp + 0x228, 4), ==, BOOT_CMDLINE_ADDR);  /* cmd_line_ptr */
	g_assert_cmpstr((const char *)f.ram + BOOT_CMDLINE_ADDR, ==, f.req.cmdline);
	g_assert_cmphex(le(zp + 0x070, 8), ==, BOOT_ACPI_ADDR);     /* acpi_rsdp_addr */
	/* The protected-mode kernel at 1 MiB, byte for byte. */
	g_assert_cmpint(memcmp(f.ram + BOOT_KERNEL_ADDR, k + setup_size, f.req.kernel.size - setup_size), ==, 0);
	/* Initrd: page aligned, below initrd_addr_max and RAM's end, above the kernel's footprint. */
	uint64_t initrd = le(zp + 0x218, 4), init_size = le(k + 0x260, 4);
	g_assert_cmpuint(le(zp + 0x21C, 4), ==, sizeof(f.initrd));
	g_assert_cmphex(initrd & 0xFFF, ==, 0);
	g_assert_cmphex(initrd + sizeof(f.initrd), <=, MIN(le(k + 0x22C, 4) + 1, RAM_SIZE));
	g_assert_cmphex(initrd, >=, BOOT_KERNEL_ADDR + init_size);
	g_assert_cmpint(memcmp(f.ram + initrd, f.initrd, sizeof(f.initrd)), ==, 0);
	/* e820 in the zero page, as built. */
	assert_e820_equal(zp + 0x2D0, zp[0x1E8], 20, &f.e820);
	/* Entry: code32_start with ESI = zero page, flat GDT at 0x500. */
	g_assert_cmphex(f.entry.eip, ==, BOOT_KERNEL_ADDR);
	g_assert_cmphex(f.entry.esi, ==, BOOT_PARAMS_ADDR);
	g_assert_cmphex(le(f.ram + BOOT_GDT_ADDR + 0x10, 8), ==, 0x00CF9B000000FFFFull);
	fixture_teardown(&f, RAM_SIZE);
}

/* The PVH note's entry, found independently of the loader. */
static uint64_t pvh_note_entry(const uint8_t *img)
{
	const Elf64_Ehdr *eh = (const void *)img;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const void *)(img + eh->e_phoff + i * sizeof(*ph));
		for (uint64_t pos = ph->p_offset; ph->p_type == PT_NOTE && pos < ph->p_offset + ph->p_filesz;) {
			const Elf64_Nhdr *n = (const void *)(img + pos);
			uint64_t desc = pos + sizeof(*n) + ((n->n_namesz + 3) & ~3u);
			if (n->n_type == 18 && !memcmp(img + pos + sizeof(*n), "Xen", 4))
				return le(img + desc, n->n_descsz);
			pos = desc + ((n->n_descsz + 3) & ~3u);
		}
	}
	return 0;
}

/* Every PT_LOAD segment of the ELF image is in RAM at its physical address;
 * returns the end of the highest. */
static uint64_t assert_segments_loaded(const uint8_t *ram, const uint8_t *img)
{
	const Elf64_Ehdr *eh = (const void *)img;
	uint64_t kernel_end = 0;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const void *)(img + eh->e_phoff + i * sizeof(*ph));
		if (ph->p_type != PT_LOAD)
			continue;
		g_assert_cmpint(memcmp(ram + ph->p_paddr, img + ph->p_offset, ph->p_filesz), ==, 0);
		kernel_end = MAX(kernel_end, ph->p_paddr + ph->p_memsz);
	}
	return kernel_end;
}

/* The physical address the boot page tables map `va` to (4-level paging,
 * 2 MiB pages), or ~0 when unmapped. */
static uint64_t translate(const uint8_t *ram, uint64_t cr3, uint64_t va)
{
	uint64_t pml4e = le(ram + cr3 + ((va >> 39) & 511) * 8, 8);
	if (!(pml4e & 1))
		return ~0ull;
	uint64_t pdpte = le(ram + (pml4e & ~0xFFFull) + ((va >> 30) & 511) * 8, 8);
	if (!(pdpte & 1))
		return ~0ull;
	uint64_t pde = le(ram + (pdpte & ~0xFFFull) + ((va >> 21) & 511) * 8, 8);
	if (!(pde & 1) || !(pde & 0x80))
		return ~0ull;
	return (pde & ~0x1FFFFFull) | (va & 0x1FFFFF);
}

static void test_vmlinux_64bit(void)
{
	struct fixture f;
	char *error = NULL;
	fixture_setup(&f, RAM_SIZE, "vmlinux");
	const Elf64_Ehdr *eh = (const void *)f.image;

	g_assert_cmpint(boot_load(&f.mem, &f.req, &f.entry, &error), ==, 0);
	g_assert_null(error);
	uint64_t kernel_end = assert_segments_loaded(f.ram, f.image);
	/* startup_64 at the ELF entry, RSI = zero page, long mode on identity tables. */
	g_assert_cmphex(f.entry.eip, ==, eh->e_entry);
	g_assert_cmphex(f.entry.esi, ==, BOOT_PARAMS_ADDR);
	g_assert_cmphex(f.entry.cr3, !=, 0);
	for (uint64_t va = 0; va < 4ull << 30; va += 0x1FF000)
		g_assert_cmphex(translate(f.ram, f.entry.cr3, va), ==, va);
	g_assert_cmphex(le(f.ram + BOOT_GDT_ADDR + 0x10, 8), ==, 0x00AF9B000000FFFFull); /* L=1 code */
	/* The zero page: a minimal header and what a loader and VGA BIOS fill. */
	const uint8_t *zp = f.ram + BOOT_PARAMS_ADDR;
	g_assert_cmphex(le(zp + 0x1FE, 2), ==, 0xAA55);
	g_assert_cmpmem(zp + 0x202, 4, "HdrS", 4);
	g_assert_cmphex(le(zp + 0x206, 2), >=, 0x020E);
	g_assert_cmphex(zp[0x210], ==, 0xFF);
	g_assert_cmphex(le(zp + 0x228, 4), ==, BOOT_CMDLINE_ADDR);
	g_assert_cmpstr((const char *)f.ram + BOOT_CMDLINE_ADDR, ==, f.req.cmdline);
	g_assert_cmphex(le(zp + 0x070, 8), ==, BOOT_ACPI_ADDR);
	uint64_t initrd = le(zp + 0x218, 4);
	g_assert_cmpuint(le(zp + 0x21C, 4), ==, sizeof(f.initrd));
	g_assert_cmphex(initrd, >=, kernel_end);
	g_assert_cmpint(memcmp(f.ram + initrd, f.initrd, sizeof(f.initrd)), ==, 0);
	assert_e820_equal(zp + 0x2D0, zp[0x1E8], 20, &f.e820);
	/* screen_info: 80x25 colour text on a VGA, 16-line characters. */
	g_assert_cmpuint(zp[0x06], ==, 3);
	g_assert_cmpuint(zp[0x07], ==, 80);
	g_assert_cmpuint(zp[0x0E], ==, 25);
	g_assert_cmpuint(zp[0x0F], ==, 1);
	g_assert_cmpuint(le(zp + 0x10, 2), ==, 16);
	fixture_teardown(&f, RAM_SIZE);
}

/* An ELF kernel without Linux's own notes (our vmlinux with their owner
 * renamed) enters through its PVH note. */
static void test_pvh(void)
{
	struct fixture f;
	char *error = NULL;
	fixture_setup(&f, RAM_SIZE, "vmlinux");
	size_t size = f.req.kernel.size;
	g_autofree uint8_t *img = g_memdup2(f.image, size);
	unsigned renamed = 0;
	for (uint8_t *p = img; (p = memmem(p, size - (size_t)(p - img), "Linux\0\0\0", 8)); p += 8)
		if (le(p - 12, 4) == 6)     /* a note header's namesz just before the name */
			memcpy(p, "Xinux", 5), renamed++;
	g_assert_cmpuint(renamed, >, 0);
	close(f.req.kernel.fd);
	f.req.kernel = memfd_image(img, size, "vmlinux-pvh");

	g_assert_cmpint(boot_load(&f.mem, &f.req, &f.entry, &error), ==, 0);
	g_assert_null(error);
	g_assert_cmphex(f.entry.eip, ==, pvh_note_entry(img));
	g_assert_cmphex(f.entry.ebx, ==, BOOT_PARAMS_ADDR);
	g_assert_cmphex(f.entry.cr3, ==, 0);
	uint64_t kernel_end = assert_segments_loaded(f.ram, img);
	const uint8_t *si = f.ram + BOOT_PARAMS_ADDR;
	g_assert_cmphex(le(si, 4), ==, 0x336ec578);       /* magic */
	g_assert_cmpuint(le(si + 4, 4), ==, 1);           /* version */
	g_assert_cmpuint(le(si + 12, 4), ==, 1);          /* nr_modules */
	g_assert_cmphex(le(si + 24, 8), ==, BOOT_CMDLINE_ADDR);
	g_assert_cmpstr((const char *)f.ram + BOOT_CMDLINE_ADDR, ==, f.req.cmdline);
	g_assert_cmphex(le(si + 32, 8), ==, BOOT_ACPI_ADDR);
	assert_e820_equal(f.ram + le(si + 40, 8), (unsigned)le(si + 48, 4), 24, &f.e820);
	const uint8_t *module = f.ram + le(si + 16, 8);
	uint64_t initrd = le(module, 8);
	g_assert_cmpuint(le(module + 8, 8), ==, sizeof(f.initrd));
	g_assert_cmphex(initrd, >=, kernel_end);
	g_assert_cmpint(memcmp(f.ram + initrd, f.initrd, sizeof(f.initrd)), ==, 0);
	fixture_teardown(&f, RAM_SIZE);
}

/* A guest too small for the kernel's segments gets an error naming it. */
static void test_elf_ram_too_small(void)
{
	struct fixture f;
	char *error = NULL;
	fixture_setup(&f, 32ull << 20, "vmlinux");
	g_assert_cmpint(boot_load(&f.mem, &f.req, &f.entry, &error), ==, -1);
	g_assert_nonnull(strstr(error, "outside guest RAM"));
	g_free(error);
	fixture_teardown(&f, 32ull << 20);
}

/* Truncations and byte flips of real images: every outcome is either a
 * clean load or an error, never a read past the image or a write past RAM
 * (the suite runs this under AddressSanitizer). */
static void damage_and_load(const char *name, size_t header_span)
{
	struct fixture f;
	fixture_setup(&f, RAM_SIZE, name);
	size_t size = f.req.kernel.size, span = MIN(size, header_span);
	GRand *rng = g_rand_new_with_seed(0x5eed);
	static const size_t cuts[] = { 1, 4, 64, 0x1F1, 0x203, 0x300, 0x1000, 0x4000 };
	struct boot_request req = f.req;
	char *error = NULL;

	for (size_t i = 0; i < G_N_ELEMENTS(cuts); i++) {
		req.kernel = memfd_image(f.image, cuts[i], name);
		g_assert_cmpint(boot_load(&f.mem, &req, &f.entry, &error), ==, -1); /* refused */
		g_assert_nonnull(error);
		g_clear_pointer(&error, g_free);
		close(req.kernel.fd);
	}
	/* Whole image, damaged headers: rewrite only the first span each round. */
	req.kernel = memfd_image(f.image, size, name);
	g_autofree uint8_t *head = g_malloc(span);
	for (int round = 0; round < 200; round++) {
		memcpy(head, f.image, span);
		for (int flips = 0; flips < 8; flips++)
			head[g_rand_int_range(rng, 0, (gint32)span)] = (uint8_t)g_rand_int(rng);
		g_assert_cmpint(pwrite(req.kernel.fd, head, span, 0), ==, (ssize_t)span);
		if (boot_load(&f.mem, &req, &f.entry, &error) < 0)
			g_assert_nonnull(error);
		g_clear_pointer(&error, g_free);
	}
	close(req.kernel.fd);
	g_rand_free(rng);
	fixture_teardown(&f, RAM_SIZE);
}

static void test_bzimage_damaged(void)
{
	damage_and_load("vmlinuz", 0x300);
}

static void test_elf_damaged(void)
{
	damage_and_load("vmlinux", 0x1000);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/boot/bzimage", test_bzimage);
	g_test_add_func("/boot/vmlinux-64bit", test_vmlinux_64bit);
	g_test_add_func("/boot/pvh", test_pvh);
	g_test_add_func("/boot/elf-ram-too-small", test_elf_ram_too_small);
	g_test_add_func("/boot/bzimage-damaged", test_bzimage_damaged);
	g_test_add_func("/boot/elf-damaged", test_elf_damaged);
	return g_test_run();
}
