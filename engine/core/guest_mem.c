/* Guest-physical memory: region table and checked translation. See guest_mem.h. */
#include "guest_mem.h"

#include <string.h>

static bool range_valid(uint64_t gpa, uint64_t len)
{
	return len != 0 && gpa + len > gpa;
}

bool guest_mem_add(struct guest_mem *mem, uint64_t gpa, uint64_t size, void *hva)
{
	if (mem->count == GUEST_MEM_MAX_REGIONS || !range_valid(gpa, size))
		return false;
	for (unsigned i = 0; i < mem->count; i++) {
		const struct guest_region *r = &mem->regions[i];
		if (gpa < r->gpa + r->size && r->gpa < gpa + size)
			return false;
	}
	mem->regions[mem->count++] = (struct guest_region){ gpa, size, hva };
	return true;
}

void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	if (!range_valid(gpa, len))
		return NULL;
	for (unsigned i = 0; i < mem->count; i++) {
		const struct guest_region *r = &mem->regions[i];
		if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
			return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

bool guest_mem_read(const struct guest_mem *mem, uint64_t gpa, void *dst, size_t len)
{
	const void *src = guest_mem_ptr(mem, gpa, len);
	if (!src)
		return false;
	memcpy(dst, src, len);
	return true;
}

bool guest_mem_write(const struct guest_mem *mem, uint64_t gpa, const void *src, size_t len)
{
	void *dst = guest_mem_ptr(mem, gpa, len);
	if (!dst)
		return false;
	memcpy(dst, src, len);
	return true;
}
