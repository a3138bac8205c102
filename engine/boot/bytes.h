/* Little-endian field access and byte checksums for firmware tables. */
#ifndef VIREO_BOOT_BYTES_H
#define VIREO_BOOT_BYTES_H

#include <stddef.h>
#include <stdint.h>

static inline void put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t get_le(const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* The byte that makes p[0..len) sum to zero (ACPI and MP table checksums). */
static inline uint8_t checksum8(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;
	while (len--)
		sum += *p++;
	return (uint8_t)-sum;
}

#endif
