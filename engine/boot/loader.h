/* Linux direct boot: a bzImage (boot protocol 2.06+) or an ELF kernel with a
 * PVH entry note, plus initrd and command line, loaded into guest RAM. */
#ifndef VIREO_BOOT_LOADER_H
#define VIREO_BOOT_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "boot/e820.h"
#include "kvm/guest_mem.h"
#include "kvm/vcpu.h"

struct boot_image {
	const uint8_t *data;
	size_t size;
	const char *path;   /* for messages */
};

struct boot_request {
	struct boot_image kernel;
	struct boot_image initrd;  /* data NULL: none */
	const char *cmdline;       /* NULL: empty */
	const struct e820_table *e820;
	uint64_t rsdp_addr;
};

/* Detects the kernel format and loads it. Returns 0 with *entry filled, or
 * -1 with *error naming the file and the problem. */
int boot_load(struct guest_mem *mem, const struct boot_request *req,
	      struct boot_entry *entry, char **error);

/* Format-specific loaders, used by boot_load. */
bool pvh_image_is_elf(const struct boot_image *kernel);
int pvh_load(struct guest_mem *mem, const struct boot_request *req,
	     struct boot_entry *entry, char **error);
bool bzimage_detect(const struct boot_image *kernel);
int bzimage_load(struct guest_mem *mem, const struct boot_request *req,
		 struct boot_entry *entry, char **error);

/* Shared by the loaders. */
int boot_write_cmdline(struct guest_mem *mem, const struct boot_request *req,
		       size_t max_len, char **error);
/* Highest page-aligned address for the initrd that ends at or below limit
 * and starts at or above floor; 0 with *error when it does not fit. */
uint64_t boot_place_initrd(struct guest_mem *mem, const struct boot_request *req,
			   uint64_t floor, uint64_t limit, char **error);

#endif
