/* Register-level test helpers: port and MMIO accesses as a guest makes them,
 * and seeded random garbage for the sanitizer runs. */
#ifndef VIREO_TEST_BUS_POKE_H
#define VIREO_TEST_BUS_POKE_H

#include <glib.h>

#include "core/bus.h"

static inline uint64_t bus_in(const struct bus *bus, uint64_t addr, unsigned size)
{
	uint64_t value = 0;
	bus_read(bus, addr, &value, size);
	return value;
}

static inline void bus_out(const struct bus *bus, uint64_t addr, uint64_t value, unsigned size)
{
	bus_write(bus, addr, &value, size);
}

/* `rounds` reads and writes of random width (1, 2, 4, 8) and value at random
 * addresses in [base, base + span); `every_256` (or NULL) runs every 256
 * rounds, for tests that must drain or feed the device meanwhile. */
static inline void bus_poke_randomly(const struct bus *bus, uint64_t base, unsigned span, unsigned rounds,
				     guint32 seed, void (*every_256)(void *opaque), void *opaque)
{
	GRand *rng = g_rand_new_with_seed(seed);
	for (unsigned i = 0; i < rounds; i++) {
		unsigned size = 1u << g_rand_int_range(rng, 0, 4);
		uint64_t addr = base + (uint64_t)g_rand_int_range(rng, 0, (gint32)span);
		if (g_rand_boolean(rng))
			bus_out(bus, addr, ((uint64_t)g_rand_int(rng) << 32) | g_rand_int(rng), size);
		else
			bus_in(bus, addr, size);
		if (every_256 && i % 256 == 0)
			every_256(opaque);
	}
	g_rand_free(rng);
}

#endif
