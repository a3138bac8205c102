/* Guest-physical memory and the one checked translation to host pointers.
 *
 * Every guest-physical address a device or loader follows goes through
 * guest_mem_ptr(): a range that is empty, wraps, or is not wholly inside one
 * RAM region is refused with NULL, so a hostile guest can never make the
 * engine touch memory outside its own guest-RAM mappings. */
#ifndef VIREO_CORE_GUEST_MEM_H
#define VIREO_CORE_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_MAX_REGIONS 4

struct guest_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

struct guest_mem {
	struct guest_region regions[GUEST_MEM_MAX_REGIONS];
	unsigned count;
};

/* Adds a RAM region; regions must not overlap. Returns false when full,
 * empty, wrapping or overlapping. */
bool guest_mem_add(struct guest_mem *mem, uint64_t gpa, uint64_t size, void *hva);

/* Host pointer to [gpa, gpa+len), or NULL when any byte of it is not RAM. */
void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* Copies in or out; false (nothing copied) when the range is not all RAM. */
bool guest_mem_read(const struct guest_mem *mem, uint64_t gpa, void *dst, size_t len);
bool guest_mem_write(const struct guest_mem *mem, uint64_t gpa, const void *src, size_t len);

#endif
