/* The device bus: port I/O and MMIO ranges with read/write callbacks.
 *
 * Devices register fixed ranges from their init functions; PCI BARs come and
 * go while vCPUs run, so the table is guarded by a reader/writer lock. Lookup
 * is a binary search over a sorted array, done under the read lock; the
 * callback is called after the lock is dropped (a device may move its own
 * BARs from inside one). Callbacks get the offset into the range, not the
 * absolute address. An access nobody claims reads as all ones and drops
 * writes, as on a PC; --trace unclaimed reports it, --trace io reports the
 * claimed ones with the name of their owner. */
#ifndef VIREO_CORE_BUS_H
#define VIREO_CORE_BUS_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bus_ops {
	/* size is 1, 2, 4 or 8; the return value is zero-extended. */
	uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
	void (*write)(void *opaque, uint64_t offset, uint64_t value, unsigned size);
	const char *name;   /* the owner, as traces name it */
};

struct bus_range {
	uint64_t base;
	uint64_t len;
	const struct bus_ops *ops;
	void *opaque;
};

struct bus {
	GRWLock lock;
	struct bus_range *ranges;
	size_t count;
	size_t capacity;
	const char *space;  /* "port" or "MMIO", as traces name addresses */
};

void bus_init(struct bus *bus);
void bus_destroy(struct bus *bus);

/* Returns 0, or -EEXIST when the range overlaps one already registered (a
 * programming error the caller reports), -EINVAL for an empty or wrapping
 * range, -ENOMEM. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, void *opaque);

/* Removes the range that starts at base and belongs to opaque; -ENOENT if
 * there is none. */
int bus_unregister(struct bus *bus, uint64_t base, void *opaque);

/* Returns false when no device claims addr (the read then yields all ones). */
bool bus_read(const struct bus *bus, uint64_t addr, void *data, unsigned size);
bool bus_write(const struct bus *bus, uint64_t addr, const void *data, unsigned size);

#endif
