/* Linux direct boot: a bzImage (boot protocol 2.06+), a Linux vmlinux (64-bit
 * boot protocol) or another ELF kernel with a PVH entry note, plus initrd and
 * command line, loaded into guest RAM. */
#ifndef VIREO_BOOT_LOADER_H
#define VIREO_BOOT_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "boot/e820.h"
#include "core/guest_mem.h"
#include "kvm/vcpu.h"

/* A kernel or initrd file, read with pread() straight into guest RAM (no
 * copy of it stays in the engine's memory). */
struct boot_image {
	int fd;             /* -1: none */
	uint64_t size;
	const char *path;   /* for messages */
};

struct boot_request {
	struct boot_image kernel;
	struct boot_image initrd;  /* fd -1: none */
	const char *cmdline;       /* NULL: empty */
	const struct e820_table *e820;
	uint64_t rsdp_addr;
};

/* Detects the kernel format and loads it. Returns 0 with *entry filled, or
 * -1 with *error naming the file and the problem. */
int boot_load(struct guest_mem *mem, const struct boot_request *req,
	      struct boot_entry *entry, char **error);

/* Format-specific loaders, used by boot_load. */
bool elf_image_detect(const uint8_t *head, size_t len);
int elf_load(struct guest_mem *mem, const struct boot_request *req,
	     struct boot_entry *entry, char **error);
bool bzimage_detect(const uint8_t *head, size_t len);
int bzimage_load(struct guest_mem *mem, const struct boot_request *req,
		 struct boot_entry *entry, char **error);

/* Shared by the loaders. */
/* Reads [offset, offset+len) of the image; false if it is not all there. */
bool boot_image_read(const struct boot_image *img, uint64_t offset, void *dst, uint64_t len);
/* Reads [offset, offset+len) of the image into guest RAM at gpa. */
bool boot_image_load(const struct boot_image *img, uint64_t offset, uint64_t len,
		     struct guest_mem *mem, uint64_t gpa);
int boot_write_cmdline(struct guest_mem *mem, const struct boot_request *req,
		       size_t max_len, char **error);
/* Highest page-aligned address for the initrd that ends at or below limit
 * and starts at or above floor; 0 with *error when it does not fit. */
/* Identity page tables for the low 4 GiB and a 64-bit code segment: *entry
 * then starts the vCPU in long mode (boot.rst, "64-bit Boot Protocol"). */
int boot_enter_long_mode(struct guest_mem *mem, struct boot_entry *entry, char **error);
uint64_t boot_place_initrd(struct guest_mem *mem, const struct boot_request *req,
			   uint64_t floor, uint64_t limit, char **error);

#endif
