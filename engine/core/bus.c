/* The device bus: sorted ranges, binary search. See bus.h. */
#include "bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/trace.h"

void bus_init(struct bus *bus)
{
	memset(bus, 0, sizeof(*bus));
	g_rw_lock_init(&bus->lock);
}

void bus_destroy(struct bus *bus)
{
	g_rw_lock_clear(&bus->lock);
	free(bus->ranges);
	bus->ranges = NULL;
	bus->count = bus->capacity = 0;
}

static bool ranges_overlap(const struct bus_range *r, uint64_t base, uint64_t len)
{
	return base < r->base + r->len && r->base < base + len;
}

static int insert_range(struct bus *bus, uint64_t base, uint64_t len,
			const struct bus_ops *ops, void *opaque)
{
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

int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, void *opaque)
{
	if (len == 0 || base + len < base)
		return -EINVAL;
	g_rw_lock_writer_lock(&bus->lock);
	int err = insert_range(bus, base, len, ops, opaque);
	g_rw_lock_writer_unlock(&bus->lock);
	return err;
}

int bus_unregister(struct bus *bus, uint64_t base, void *opaque)
{
	int err = -ENOENT;
	g_rw_lock_writer_lock(&bus->lock);
	for (size_t i = 0; i < bus->count; i++) {
		if (bus->ranges[i].base == base && bus->ranges[i].opaque == opaque) {
			memmove(&bus->ranges[i], &bus->ranges[i + 1], (bus->count - i - 1) * sizeof(*bus->ranges));
			bus->count--;
			err = 0;
			break;
		}
	}
	g_rw_lock_writer_unlock(&bus->lock);
	return err;
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

/* A copy of the range holding addr, taken under the read lock. */
static bool bus_lookup(const struct bus *bus, uint64_t addr, unsigned size, struct bus_range *out)
{
	GRWLock *lock = (GRWLock *)&bus->lock;
	g_rw_lock_reader_lock(lock);
	const struct bus_range *r = bus_find(bus, addr, size);
	if (r)
		*out = *r;
	g_rw_lock_reader_unlock(lock);
	return r != NULL;
}

/* One trace line for an access: which space, address, width, direction,
 * the value for writes, and whose range it is (NULL: nobody's). */
static void trace_access(const struct bus *bus, const struct bus_range *r, uint64_t addr, unsigned size,
			 const uint64_t *written)
{
	char value[32] = "";
	if (written)
		g_snprintf(value, sizeof(value), " value 0x%llx", (unsigned long long)*written);
	const char *space = bus->space ? bus->space : "bus";
	const char *dir = written ? "write" : "read";
	if (r)
		trace_emit(TRACE_IO, "%s 0x%llx %s %u byte%s%s: %s +0x%llx", space, (unsigned long long)addr, dir,
			   size, size > 1 ? "s" : "", value, r->ops->name ? r->ops->name : "?",
			   (unsigned long long)(addr - r->base));
	else
		trace_emit(TRACE_UNCLAIMED, "%s 0x%llx %s %u byte%s%s", space, (unsigned long long)addr, dir, size,
			   size > 1 ? "s" : "", value);
}

bool bus_read(const struct bus *bus, uint64_t addr, void *data, unsigned size)
{
	struct bus_range r;
	bool claimed = bus_lookup(bus, addr, size, &r);
	uint64_t value = UINT64_MAX;
	if (trace_on(claimed ? TRACE_IO : TRACE_UNCLAIMED))
		trace_access(bus, claimed ? &r : NULL, addr, size, NULL);
	if (claimed && r.ops->read)
		value = r.ops->read(r.opaque, addr - r.base, size);
	memcpy(data, &value, size); /* x86 is little-endian */
	return claimed;
}

bool bus_write(const struct bus *bus, uint64_t addr, const void *data, unsigned size)
{
	struct bus_range r;
	bool claimed = bus_lookup(bus, addr, size, &r);
	uint64_t value = 0;
	memcpy(&value, data, size);
	if (trace_on(claimed ? TRACE_IO : TRACE_UNCLAIMED))
		trace_access(bus, claimed ? &r : NULL, addr, size, &value);
	if (claimed && r.ops->write)
		r.ops->write(r.opaque, addr - r.base, value, size);
	return claimed;
}
