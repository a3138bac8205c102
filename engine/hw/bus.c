/* The device bus: sorted ranges, binary search. See bus.h. */
#include "bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
}

void bus_destroy(struct bus *bus)
{
	free(bus->ranges);
	bus->ranges = NULL;
	bus->count = bus->capacity = 0;
}

static bool ranges_overlap(const struct bus_range *r, uint64_t base, uint64_t len)
{
	return base < r->base + r->len && r->base < base + len;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, void *opaque)
{
	if (len == 0 || base + len < base)
		return -EINVAL;

	size_t pos = 0;
	while (pos < bus->count && bus->ranges[pos].base < base)
		pos++;
	if ((pos > 0 && ranges_overlap(&bus->ranges[pos - 1], base, len)) ||
	    (pos < bus->count && ranges_overlap(&bus->ranges[pos], base, len)))
		return -EEXIST;

	if (bus->count == bus->capacity) {
		size_t capacity = bus->capacity ? bus->capacity * 2 : 16;
		struct bus_range *grown = realloc(bus->ranges, capacity * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		bus->ranges = grown;
		bus->capacity = capacity;
	}
	memmove(&bus->ranges[pos + 1], &bus->ranges[pos],
		(bus->count - pos) * sizeof(*bus->ranges));
	bus->ranges[pos] = (struct bus_range){ base, len, ops, opaque };
	bus->count++;
	return 0;
}

/* The range holding addr, or NULL. An access straddling the end of a range is
 * treated as unclaimed rather than split. */
static const struct bus_range *bus_find(const struct bus *bus, uint64_t addr, unsigned size)
{
	size_t lo = 0, hi = bus->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &bus->ranges[mid];
		if (addr < r->base)
			hi = mid;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else
			return addr - r->base + size <= r->len ? r : NULL;
	}
	return NULL;
}

bool bus_read(const struct bus *bus, uint64_t addr, void *data, unsigned size)
{
	const struct bus_range *r = bus_find(bus, addr, size);
	uint64_t value = UINT64_MAX;
	if (r && r->ops->read)
		value = r->ops->read(r->opaque, addr - r->base, size);
	memcpy(data, &value, size); /* x86 is little-endian */
	return r != NULL;
}

bool bus_write(const struct bus *bus, uint64_t addr, const void *data, unsigned size)
{
	const struct bus_range *r = bus_find(bus, addr, size);
	if (!r)
		return false;
	uint64_t value = 0;
	memcpy(&value, data, size);
	if (r->ops->write)
		r->ops->write(r->opaque, addr - r->base, value, size);
	return true;
}
