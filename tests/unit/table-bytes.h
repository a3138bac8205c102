/* Reading firmware tables in tests: little-endian fields and the byte sum
 * a valid ACPI or MP table has (zero). Written apart from the engine's own
 * core/bytes.h so a test does not check the engine with its own code. */
#ifndef VIREO_TEST_TABLE_BYTES_H
#define VIREO_TEST_TABLE_BYTES_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;
	while (len--)
		s += *p++;
	return s;
}

#endif
